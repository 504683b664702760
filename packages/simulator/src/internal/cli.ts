/**
 * The `pnpm simulator` command line: flags and environment variables to `SimulatorOptions`, the
 * start-up banner or the `--json` ready line, clean stop on SIGINT/SIGTERM (via
 * `NodeRuntime.runMain`). Where its lines go is `output.ts`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Path from "node:path"
import type { AppRegistration, Endpoint, Faults, Simulator, SimulatorOptions } from "../Simulator.js"
import { defaultPort, demoApp } from "./defaults.js"
import { parse as parseDuration } from "./duration.js"
import { businessEndpoints, endpoints, isEndpoint } from "./endpoints.js"
import { maxLatency } from "./faults.js"
import { fixturesDirectory, packageVersion } from "./fixtures.js"
import * as Launcher from "./launcher.js"
import * as Output from "./output.js"
import * as internal from "./simulator.js"

/**
 * A command line the CLI cannot use; printed with a pointer to `--help`, exit code 2.
 *
 * @internal
 */
export class CliUsageError extends Data.TaggedError("CliUsageError")<{ readonly message: string }> {}

/** @internal */
export interface Command {
  readonly help: boolean
  /** `--version`: print the package's version and exit. */
  readonly version: boolean
  /** `--json`: one JSON line on stdout when ready (see `readyLine`), logs on stderr. */
  readonly json: boolean
  readonly options: SimulatorOptions
  /** True when the main app's secret is the demo one (then it is printed). */
  readonly demoSecret: boolean
}

/** @internal */
export const frozenDemoApp = { appId: "iocm-frozen-app", secret: "iocm-frozen-secret", frozen: true } as const

/**
 * The help text; `program` is how the user started it (`pnpm simulator` in this repository,
 * `iocm-simulator` where the package is installed).
 *
 * @internal
 */
export const helpFor = (program: string): string =>
  `${program} [flags]

A fake Huawei IoT platform (OceanConnect) for tests and examples: login, refreshToken, and the
business APIs (device query, registration and deletion, device commands, subscriptions) behind
the platform's authentication, with its token rules, error codes, flow control and HTTPS
(test-only certificates). Stop it with Ctrl-C or SIGTERM.

Flags (environment variable in brackets; flags win):
  --port <n>               port to listen on, 0 for any (IOCM_SIM_PORT)            default ${defaultPort}
  --host <addr>            interface to bind (IOCM_SIM_HOST)                      default 127.0.0.1
  --http                   plain HTTP instead of HTTPS (IOCM_SIM_HTTP=1)
  --mtls                   mutual TLS: require a client certificate signed by fixtures/ca.pem
                           (IOCM_SIM_MTLS=1)
  --app-id <id>            the main app's appId (IOCM_APP_ID)                     default ${demoApp.appId}
  --secret <secret>        the main app's secret (IOCM_SECRET)                    default ${demoApp.secret}
  --app <id>:<secret>[:frozen]
                           register another app; repeatable. A frozen demo app
                           ${frozenDemoApp.appId}:${frozenDemoApp.secret} is always registered.
  --token-lifetime <d>     access-token lifetime (IOCM_SIM_TOKEN_LIFETIME)        default 3600s
  --refresh-lifetime <d>   refresh-token lifetime (IOCM_SIM_REFRESH_LIFETIME)     default 30d
  --rate-limit <n>         business calls per window per app (IOCM_SIM_RATE_LIMIT) default 100
  --rate-window <d>        flow-control window (IOCM_SIM_RATE_WINDOW)             default 60s
  --frozen-code <code>     100449 or 100247, answered to a frozen app (IOCM_SIM_FROZEN_CODE)
                                                                                  default 100449
  --fault <endpoint>:<kind>[=<value>]
                           inject a fault; repeatable (IOCM_SIM_FAULTS, comma-separated).
                           endpoint: login | refresh | all, or a business one:
                                     ${businessEndpoints.join(" | ")}
                           kind:     error[=rate]     share of 500/50252 answers (rate 0..1, default 1)
                                     reset[=rate]     connection destroyed without an answer
                                     truncate[=rate]  200 with a JSON body cut in the middle
                                     html[=rate]      502 with a proxy's HTML page
                                     latency=<d>      added delay
                                     times=<n>        only the next n requests, then clear
                           e.g. --fault refresh:error=0.3 --fault all:latency=200ms
  --app-key-header <name>  header carrying the appId on business calls (IOCM_SIM_APP_KEY_HEADER)
                                                                                  default app_key
  --result-keys            business errors as {"resultcode","resultmsg"} instead of
                           {"error_code","error_desc"}
  --max-body-size <bytes>  largest request body accepted                          default 65536
  --no-control             do not serve the control API under /_simulator
  --quiet                  no per-request log lines (IOCM_SIM_QUIET=1)
  --json                   when ready, print one JSON line on stdout instead of the banner:
                           {"baseUrl","protocol","mutualTls","caFile","certFile","keyFile",
                           "appId","secret"} (file paths null over --http; "secret" only
                           when it is the demo one); request logs go to stderr
  --version                print the version and exit
  -h, --help               show this help

Durations: 90 (seconds), 500ms, 10s, 5m, 1h, 30d, or "10 seconds".

Control API (unless --no-control), JSON:
  GET    /_simulator/counters                 requests per endpoint and outcome, logins, refreshes
  POST   /_simulator/counters/reset
  PUT    /_simulator/faults/<endpoint|all>    body like {"errorRate":0.5,"latency":"200ms","times":3}
  DELETE /_simulator/faults
  POST   /_simulator/apps                     body {"appId":"…","secret":"…","frozen":false}
  POST   /_simulator/apps/<appId>/freeze | /unfreeze | /revoke
  POST   /_simulator/revoke                   invalidate every token
  POST   /_simulator/devices                  body {"nodeId":"…","appId":"…","deviceType":"…",…}
  GET    /_simulator/commands?appId=<appId>   the commands sent, with their status now
  GET    /_simulator/subscriptions?appId=<appId>

Example:
  curl --cacert ${Path.join(fixturesDirectory, "ca.pem")} \\
    -d 'appId=${demoApp.appId}&secret=${demoApp.secret}' https://127.0.0.1:${defaultPort}/iocm/app/sec/v1.1.0/login
`

/** @internal */
export const helpText: string = helpFor("pnpm simulator")

type Env = Readonly<Record<string, string | undefined>>

const usage = (message: string) => new CliUsageError({ message })

const truthy = (value: string | undefined): boolean =>
  value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase())

const integer = (name: string, text: string, min: number, max: number): Result.Result<number, CliUsageError> => {
  const n = Number(text)
  return /^\d+$/.test(text.trim()) && n >= min && n <= max
    ? Result.succeed(n)
    : Result.fail(usage(`${name} must be a whole number between ${min} and ${max}, got "${text}"`))
}

const duration = (name: string, text: string): Result.Result<Duration.Duration, CliUsageError> =>
  Option.match(parseDuration(text).pipe(Option.filter((d) => Duration.toMillis(d) > 0)), {
    onNone: () =>
      Result.fail(usage(`${name} must be a positive duration (e.g. 90, 500ms, 10s, 5m, 1h, 30d), got "${text}"`)),
    onSome: Result.succeed
  })

const rate = (spec: string, text: string | undefined): Result.Result<number, CliUsageError> => {
  if (text === undefined) return Result.succeed(1)
  const n = Number(text)
  return text.trim() !== "" && Number.isFinite(n) && n >= 0 && n <= 1
    ? Result.succeed(n)
    : Result.fail(usage(`--fault ${spec}: the rate must be between 0 and 1`))
}

/** Parses one `--fault` spec into the faults of the endpoints it names. */
const parseFault = (spec: string): Result.Result<readonly [ReadonlyArray<Endpoint>, Faults], CliUsageError> =>
  Result.gen(function*() {
    const match = /^([a-z]+):([a-z-]+)(?:=(.*))?$/.exec(spec.trim())
    if (match === null) {
      return yield* Result.fail(usage(`--fault "${spec}" is not <endpoint>:<kind>[=<value>]`))
    }
    const [, endpoint = "", kind = "", value] = match
    const targets: ReadonlyArray<Endpoint> | undefined = endpoint === "all"
      ? endpoints
      : isEndpoint(endpoint)
      ? [endpoint]
      : undefined
    if (targets === undefined) {
      return yield* Result.fail(
        usage(`--fault ${spec}: unknown endpoint "${endpoint}" (${endpoints.join(", ")}, all)`)
      )
    }
    switch (kind) {
      case "error":
      case "error-rate":
        return [targets, { errorRate: yield* rate(spec, value) }] as const
      case "reset":
        return [targets, { reset: yield* rate(spec, value) }] as const
      case "truncate":
        return [targets, { truncate: yield* rate(spec, value) }] as const
      case "html":
        return [targets, { html: yield* rate(spec, value) }] as const
      case "latency": {
        if (value === undefined) return yield* Result.fail(usage(`--fault ${spec}: latency needs a duration`))
        const d = yield* Option.match(parseDuration(value), {
          onNone: () => Result.fail(usage(`--fault ${spec}: "${value}" is not a duration`)),
          onSome: Result.succeed
        })
        if (Duration.isGreaterThan(d, maxLatency)) {
          return yield* Result.fail(usage(`--fault ${spec}: latency must be at most ${Duration.format(maxLatency)}`))
        }
        return [targets, { latency: d }] as const
      }
      case "times":
        return [targets, { times: yield* integer(`--fault ${spec}`, value ?? "", 1, Number.MAX_SAFE_INTEGER) }] as const
      default:
        return yield* Result.fail(
          usage(`--fault ${spec}: unknown kind "${kind}" (error, reset, truncate, html, latency, times)`)
        )
    }
  })

const parseApp = (text: string): Result.Result<AppRegistration, CliUsageError> => {
  const parts = text.split(":")
  const [appId = "", secret = "", flag] = parts
  if (
    parts.length < 2 || parts.length > 3 || appId === "" || secret === "" || (flag !== undefined && flag !== "frozen")
  ) {
    return Result.fail(usage(`--app "${text}" is not <appId>:<secret>[:frozen]`))
  }
  return Result.succeed({ appId, secret, frozen: flag === "frozen" })
}

const valueFlags = new Set([
  "--port",
  "--host",
  "--app-id",
  "--secret",
  "--app",
  "--token-lifetime",
  "--refresh-lifetime",
  "--rate-limit",
  "--rate-window",
  "--frozen-code",
  "--fault",
  "--app-key-header",
  "--max-body-size"
])

const booleanFlags = new Set([
  "--http",
  "--mtls",
  "--result-keys",
  "--no-control",
  "--quiet",
  "--json",
  "--version",
  "--help",
  "-h"
])

/**
 * Parses the command line and the environment; flags win over environment variables.
 *
 * @internal
 */
export const parse = (argv: ReadonlyArray<string>, env: Env): Result.Result<Command, CliUsageError> =>
  Result.gen(function*() {
    const values = new Map<string, Array<string>>()
    const flags = new Set<string>()
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i] ?? ""
      if (arg === "--") continue
      const eq = arg.indexOf("=")
      const name = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg
      if (valueFlags.has(name)) {
        let value: string | undefined
        if (eq !== -1 && name !== arg) {
          value = arg.slice(eq + 1)
        } else {
          value = argv[i + 1]
          i++
        }
        if (value === undefined) return yield* Result.fail(usage(`${name} needs a value`))
        values.set(name, [...(values.get(name) ?? []), value])
      } else if (booleanFlags.has(arg)) {
        flags.add(arg)
      } else {
        return yield* Result.fail(usage(`unknown argument "${arg}"`))
      }
    }
    const help = flags.has("--help") || flags.has("-h")
    const last = (flag: string, envName?: string): string | undefined => {
      const given = values.get(flag)
      if (given !== undefined) return given[given.length - 1]
      const fromEnv = envName === undefined ? undefined : env[envName]
      return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv
    }

    const portText = last("--port", "IOCM_SIM_PORT")
    const port = portText === undefined ? defaultPort : yield* integer("--port", portText, 0, 65535)
    const host = last("--host", "IOCM_SIM_HOST") ?? "127.0.0.1"
    const http = flags.has("--http") || truthy(env["IOCM_SIM_HTTP"])
    const mutual = flags.has("--mtls") || truthy(env["IOCM_SIM_MTLS"])
    if (http && mutual) return yield* Result.fail(usage("--mtls needs HTTPS; drop --http"))

    const appId = last("--app-id", "IOCM_APP_ID") ?? demoApp.appId
    const secret = last("--secret", "IOCM_SECRET") ?? demoApp.secret
    if (appId.length > 256 || secret.length > 256) {
      return yield* Result.fail(usage("the appId and secret are at most 256 characters"))
    }
    const apps: Array<AppRegistration> = []
    for (const text of values.get("--app") ?? []) apps.push(yield* parseApp(text))
    if (appId !== frozenDemoApp.appId && !apps.some((a) => a.appId === frozenDemoApp.appId)) {
      apps.push(frozenDemoApp)
    }

    const optionalDuration = (flag: string, envName: string) => {
      const text = last(flag, envName)
      return text === undefined ? Result.succeed(undefined) : duration(flag, text)
    }
    const tokenLifetime = yield* optionalDuration("--token-lifetime", "IOCM_SIM_TOKEN_LIFETIME")
    const refreshTokenLifetime = yield* optionalDuration("--refresh-lifetime", "IOCM_SIM_REFRESH_LIFETIME")
    const rateWindow = yield* optionalDuration("--rate-window", "IOCM_SIM_RATE_WINDOW")
    const rateText = last("--rate-limit", "IOCM_SIM_RATE_LIMIT")
    const rateLimit = rateText === undefined ? undefined : yield* integer("--rate-limit", rateText, 0, 1_000_000_000)
    const frozenCode = last("--frozen-code", "IOCM_SIM_FROZEN_CODE")
    if (frozenCode !== undefined && frozenCode !== "100449" && frozenCode !== "100247") {
      return yield* Result.fail(usage(`--frozen-code must be 100449 or 100247, got "${frozenCode}"`))
    }
    const maxText = last("--max-body-size")
    const maxBodySize = maxText === undefined ? undefined : yield* integer("--max-body-size", maxText, 1, 2 ** 30)

    const faultSpecs = [
      ...(env["IOCM_SIM_FAULTS"] ?? "").split(",").filter((s) => s.trim() !== ""),
      ...(values.get("--fault") ?? [])
    ]
    const faults: Partial<Record<Endpoint, Faults>> = {}
    for (const spec of faultSpecs) {
      const [targets, f] = yield* parseFault(spec)
      for (const target of targets) faults[target] = { ...faults[target], ...f }
    }

    const options: SimulatorOptions = {
      host,
      port,
      protocol: http ? "http" : "https",
      tls: { mutual },
      app: { appId, secret: Redacted.make(secret) },
      apps,
      tokenLifetime,
      refreshTokenLifetime,
      rateLimit: { limit: rateLimit, window: rateWindow },
      frozenCode,
      faults,
      maxBodySize,
      appKeyHeader: last("--app-key-header", "IOCM_SIM_APP_KEY_HEADER"),
      businessErrorKeys: flags.has("--result-keys") ? "resultcode" : "error_code",
      controlApi: !flags.has("--no-control"),
      logRequests: !(flags.has("--quiet") || truthy(env["IOCM_SIM_QUIET"]))
    }
    return {
      help,
      version: flags.has("--version"),
      json: flags.has("--json"),
      options,
      demoSecret: secret === demoApp.secret
    }
  })

const describeFaults = (faults: Partial<Record<Endpoint, Faults>> | undefined): string => {
  const parts = Object.entries(faults ?? {}).map(([endpoint, f]) =>
    `${endpoint} ${
      Object.entries(f ?? {}).map(([k, v]) => `${k}=${Duration.isDuration(v) ? Duration.format(v) : String(v)}`)
        .join(" ")
    }`
  )
  return parts.length === 0 ? "none" : parts.join("; ")
}

/**
 * The start-up banner: where it listens and how to reach it. The secret is printed only when it
 * is the demo one, never one taken from `IOCM_SECRET` or `--secret`.
 *
 * @internal
 */
export const banner = (service: Simulator.Service, command: Command): string => {
  const o = command.options
  const ca = Path.join(fixturesDirectory, "ca.pem")
  const secret = command.demoSecret ? Redacted.value(service.app.secret) : "<as given in IOCM_SECRET / --secret>"
  // The demo secret is shown as is; any other is left to the shell, so it must be double-quoted.
  const curlSecret = command.demoSecret ? Redacted.value(service.app.secret) : "$IOCM_SECRET"
  const quote = command.demoSecret ? "'" : "\""
  const tls = service.protocol === "http"
    ? "plain HTTP (no TLS)"
    : service.mutualTls
    ? `HTTPS, mutual TLS: present ${Path.join(fixturesDirectory, "client.pem")} + client-key.pem`
    : "HTTPS (test-only certificate)"
  const fmt = (d: Duration.Input | undefined, fallback: string) =>
    d === undefined ? fallback : Duration.format(Duration.fromInputUnsafe(d))
  const lines = [
    "iocm simulator: a fake OceanConnect platform, for tests only",
    `  base URL    ${service.baseUrl}`,
    `  transport   ${tls}`,
    ...(service.protocol === "https" ? [`  CA          ${ca}`] : []),
    `  app         appId=${service.app.appId} secret=${secret}`,
    ...(o.apps ?? []).map((a) =>
      `  app         appId=${a.appId} ${a.frozen === true ? "(frozen) " : ""}secret=${
        a.appId === frozenDemoApp.appId ? frozenDemoApp.secret : "<as given>"
      }`
    ),
    `  tokens      access ${fmt(o.tokenLifetime, "1h")}, refresh ${fmt(o.refreshTokenLifetime, "30d")} (single use)`,
    `  flow        ${o.rateLimit?.limit ?? 100} calls per ${fmt(o.rateLimit?.window, "1m")} per app`,
    `  faults      ${describeFaults(o.faults)}`,
    "",
    "Try:",
    `  curl ${service.protocol === "https" ? `--cacert ${ca} ` : ""}${
      service.mutualTls ?
        `--cert ${Path.join(fixturesDirectory, "client.pem")} --key ${
          Path.join(fixturesDirectory, "client-key.pem")
        } ` :
        ""
    }-d ${quote}appId=${service.app.appId}&secret=${curlSecret}${quote} ${service.baseUrl}/iocm/app/sec/v1.1.0/login`,
    "",
    "Ctrl-C or SIGTERM stops it."
  ]
  return lines.join("\n")
}

/**
 * The `--json` ready line: where the simulator listens and what a client needs to reach it, for a
 * harness in any language. Files are absolute paths (`null` over plain HTTP); `secret` is there
 * only when it is the demo one, never one taken from `IOCM_SECRET` or `--secret`.
 *
 * @internal
 */
export const readyLine = (service: Simulator.Service, command: Command): string => {
  const file = (name: string) => service.protocol === "https" ? Path.join(fixturesDirectory, name) : null
  return JSON.stringify({
    baseUrl: service.baseUrl,
    protocol: service.protocol,
    mutualTls: service.mutualTls,
    caFile: file("ca.pem"),
    certFile: file("client.pem"),
    keyFile: file("client-key.pem"),
    appId: service.app.appId,
    ...(command.demoSecret ? { secret: Redacted.value(service.app.secret) } : {})
  })
}

const serve = (command: Command): Effect.Effect<void> => {
  const say = Output.notice(command.json)
  return Effect.scoped(
    Effect.gen(function*() {
      const service = yield* internal.make(command.options)
      yield* Console.log(command.json ? readyLine(service, command) : banner(service, command))
      // Serve until interrupted (SIGINT/SIGTERM), or until the launching pnpm/tsx is gone.
      yield* Launcher.orphaned
      yield* say("launcher exited, stopping")
    })
  ).pipe(
    Effect.onExit((exit) =>
      Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? say("simulator stopped") : Effect.void
    ),
    Effect.catchTag("SimulatorError", (error) =>
      Effect.andThen(
        Console.error(`simulator: ${error.message}`),
        Effect.sync(() => {
          process.exitCode = 1
        })
      )),
    Effect.provide(Output.layerLogger(command.json))
  )
}

/**
 * The whole CLI: parse, print help, the version or the banner (the ready line with `--json`), serve
 * until interrupted. Sets `process.exitCode` to 2 on a usage error and 1 when the server cannot
 * start; a defect is reported on stderr (never stdout) and fails the effect. `program` names the
 * command in messages.
 *
 * @internal
 */
export const main = (argv: ReadonlyArray<string>, env: Env, program = "pnpm simulator"): Effect.Effect<void> =>
  Effect.gen(function*() {
    const parsed = parse(argv, env)
    if (Result.isFailure(parsed)) {
      yield* Console.error(`simulator: ${parsed.failure.message}\nRun "${program} --help" for the flags.`)
      yield* Effect.sync(() => {
        process.exitCode = 2
      })
      return
    }
    const command = parsed.success
    if (command.help) return yield* Console.log(helpFor(program))
    if (command.version) return yield* Console.log(packageVersion())
    yield* serve(command)
  }).pipe(Effect.tapCause(Output.reportUnexpected))

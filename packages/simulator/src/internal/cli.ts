/**
 * The simulator's command line on `effect/cli`: its flags (with their `IOCM_SIM_*`, `IOCM_APP_ID` and
 * `IOCM_SECRET` fallbacks; flags win), the checks of their values, the start-up banner or the
 * `--json` ready line, and serving until interrupted. `effect/cli` parses the command line and writes
 * the help; where the simulator's own lines go is `output.ts`, how the `iocm-simulator` bin reports
 * a failure is `runner.ts`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Path from "node:path"
import type { AppRegistration, Endpoint, Faults, Simulator, SimulatorOptions } from "../Simulator.js"
import { defaultPort, demoApp } from "./defaults.js"
import { parse as parseDuration } from "./duration.js"
import { businessEndpoints, endpoints, isEndpoint } from "./endpoints.js"
import { maxLatency } from "./faults.js"
import { fixturesDirectory } from "./fixtures.js"
import * as Launcher from "./launcher.js"
import * as Output from "./output.js"
import * as internal from "./simulator.js"
import type { SimulatorError } from "./simulatorError.js"

/**
 * What the command line asks for, checked.
 *
 * @internal
 */
export interface Resolved {
  /** `--json`: one JSON line on stdout when ready (see `readyLine`), logs on stderr. */
  readonly json: boolean
  readonly options: SimulatorOptions
  /** True when the main app's secret is the demo one (then it is printed). */
  readonly demoSecret: boolean
}

/** @internal */
export const frozenDemoApp = { appId: "iocm-frozen-app", secret: "iocm-frozen-secret", frozen: true } as const

// --- checks of one value: the value, or a message naming the flag ---------------------------------

const invalid = (message: string) => new CliError.ValidationError({ message })

const integer =
  (name: string, min: number, max: number) => (text: string): Effect.Effect<number, CliError.CliError> => {
    const n = Number(text)
    return /^\d+$/.test(text.trim()) && n >= min && n <= max
      ? Effect.succeed(n)
      : Effect.fail(invalid(`${name} must be a whole number between ${min} and ${max}, got "${text}"`))
  }

const positiveDuration = (name: string) => (text: string): Effect.Effect<Duration.Duration, CliError.CliError> =>
  Option.match(parseDuration(text).pipe(Option.filter((d) => Duration.toMillis(d) > 0)), {
    onNone: () =>
      Effect.fail(invalid(`${name} must be a positive duration (e.g. 90, 500ms, 10s, 5m, 1h, 30d), got "${text}"`)),
    onSome: Effect.succeed
  })

const rate = (spec: string, text: string | undefined): Effect.Effect<number, CliError.CliError> => {
  if (text === undefined) return Effect.succeed(1)
  const n = Number(text)
  return text.trim() !== "" && Number.isFinite(n) && n >= 0 && n <= 1
    ? Effect.succeed(n)
    : Effect.fail(invalid(`--fault ${spec}: the rate must be between 0 and 1`))
}

const latency = (spec: string, value: string | undefined): Effect.Effect<Duration.Duration, CliError.CliError> => {
  if (value === undefined) return Effect.fail(invalid(`--fault ${spec}: latency needs a duration`))
  return Option.match(parseDuration(value), {
    onNone: () => Effect.fail(invalid(`--fault ${spec}: "${value}" is not a duration`)),
    onSome: (d) =>
      Duration.isGreaterThan(d, maxLatency)
        ? Effect.fail(invalid(`--fault ${spec}: latency must be at most ${Duration.format(maxLatency)}`))
        : Effect.succeed(d)
  })
}

/** The endpoints a fault spec names: one, or `all`. */
const targetsOf = (spec: string, endpoint: string): Effect.Effect<ReadonlyArray<Endpoint>, CliError.CliError> =>
  endpoint === "all"
    ? Effect.succeed(endpoints)
    : isEndpoint(endpoint)
    ? Effect.succeed([endpoint])
    : Effect.fail(invalid(`--fault ${spec}: unknown endpoint "${endpoint}" (${endpoints.join(", ")}, all)`))

/** The faults of one kind (`error`, `reset`, …) with its value. */
const faultOf = (spec: string, kind: string, value: string | undefined): Effect.Effect<Faults, CliError.CliError> => {
  switch (kind) {
    case "error":
    case "error-rate":
      return Effect.map(rate(spec, value), (errorRate) => ({ errorRate }))
    case "reset":
      return Effect.map(rate(spec, value), (reset) => ({ reset }))
    case "truncate":
      return Effect.map(rate(spec, value), (truncate) => ({ truncate }))
    case "html":
      return Effect.map(rate(spec, value), (html) => ({ html }))
    case "latency":
      return Effect.map(latency(spec, value), (d) => ({ latency: d }))
    case "times":
      return Effect.map(integer(`--fault ${spec}`, 1, Number.MAX_SAFE_INTEGER)(value ?? ""), (times) => ({ times }))
    default:
      return Effect.fail(
        invalid(`--fault ${spec}: unknown kind "${kind}" (error, reset, truncate, html, latency, times)`)
      )
  }
}

/** Parses one `--fault` spec into the faults of the endpoints it names. */
const parseFault = (spec: string): Effect.Effect<readonly [ReadonlyArray<Endpoint>, Faults], CliError.CliError> => {
  const match = /^([a-z]+):([a-z-]+)(?:=(.*))?$/.exec(spec.trim())
  if (match === null) return Effect.fail(invalid(`--fault "${spec}" is not <endpoint>:<kind>[=<value>]`))
  const [, endpoint = "", kind = "", value] = match
  return Effect.all([targetsOf(spec, endpoint), faultOf(spec, kind, value)])
}

const parseApp = (text: string): Effect.Effect<AppRegistration, CliError.CliError> => {
  const parts = text.split(":")
  const [appId = "", secret = "", flag] = parts
  return parts.length < 2 || parts.length > 3 || appId === "" || secret === "" ||
      (flag !== undefined && flag !== "frozen")
    ? Effect.fail(invalid(`--app "${text}" is not <appId>:<secret>[:frozen]`))
    : Effect.succeed({ appId, secret, frozen: flag === "frozen" })
}

// --- the flags ------------------------------------------------------------------------------------

/** A flag with a value, falling back to the variable `variable` when it is not given. */
const valued = (name: string, metavar: string, variable?: string) => {
  const flag = Flag.String(name).pipe(Flag.withMetavar(metavar))
  return variable === undefined ? flag : flag.pipe(Flag.withFallbackConfig(Config.String(variable)))
}

/** A switch, off unless given (or its variable says `1`, `true`, `yes` or `on`). */
const switched = (name: string, description: string, variable?: string) => {
  const flag = variable === undefined ? Flag.Boolean(name) : Flag.Boolean(name).pipe(
    Flag.withFallbackConfig(Config.Boolean(variable))
  )
  return flag.pipe(Flag.withoutNegation, Flag.withDefault(false), Flag.withDescription(description))
}

const durationFlag = (name: string, variable: string, description: string) =>
  valued(name, "d", variable).pipe(
    Flag.mapEffect(positiveDuration(`--${name}`)),
    Flag.optional,
    Flag.withDescription(description)
  )

/**
 * The simulator's flags, each with the variable it falls back to.
 *
 * @internal
 */
export const flags = {
  port: valued("port", "n", "IOCM_SIM_PORT").pipe(
    Flag.mapEffect(integer("--port", 0, 65535)),
    Flag.withDefault(defaultPort),
    Flag.withDescription(`port to listen on, 0 for any (IOCM_SIM_PORT; default ${defaultPort})`)
  ),
  host: valued("host", "addr", "IOCM_SIM_HOST").pipe(
    Flag.withDefault("127.0.0.1"),
    Flag.withDescription("interface to bind (IOCM_SIM_HOST; default 127.0.0.1)")
  ),
  http: switched("http", "plain HTTP instead of HTTPS (IOCM_SIM_HTTP=1)", "IOCM_SIM_HTTP"),
  mtls: switched(
    "mtls",
    "mutual TLS: require a client certificate signed by fixtures/ca.pem (IOCM_SIM_MTLS=1)",
    "IOCM_SIM_MTLS"
  ),
  appId: valued("app-id", "id", "IOCM_APP_ID").pipe(
    Flag.withDefault(demoApp.appId),
    Flag.withDescription(`the main app's appId (IOCM_APP_ID; default ${demoApp.appId})`)
  ),
  secret: Flag.Redacted("secret").pipe(
    Flag.withMetavar("secret"),
    Flag.withFallbackConfig(Config.Redacted("IOCM_SECRET")),
    Flag.optional,
    Flag.withDescription(`the main app's secret (IOCM_SECRET; default ${demoApp.secret})`)
  ),
  apps: valued("app", "id:secret[:frozen]").pipe(
    Flag.atLeast(0),
    Flag.mapEffect(Effect.forEach(parseApp)),
    Flag.withDescription(
      `register another app; repeatable (a frozen ${frozenDemoApp.appId}:${frozenDemoApp.secret} always is)`
    )
  ),
  tokenLifetime: durationFlag(
    "token-lifetime",
    "IOCM_SIM_TOKEN_LIFETIME",
    "access-token lifetime (IOCM_SIM_TOKEN_LIFETIME; default 3600s)"
  ),
  refreshLifetime: durationFlag(
    "refresh-lifetime",
    "IOCM_SIM_REFRESH_LIFETIME",
    "refresh-token lifetime (IOCM_SIM_REFRESH_LIFETIME; default 30d)"
  ),
  rateLimit: valued("rate-limit", "n", "IOCM_SIM_RATE_LIMIT").pipe(
    Flag.mapEffect(integer("--rate-limit", 0, 1_000_000_000)),
    Flag.optional,
    Flag.withDescription("business calls per window per app (IOCM_SIM_RATE_LIMIT; default 100)")
  ),
  rateWindow: durationFlag(
    "rate-window",
    "IOCM_SIM_RATE_WINDOW",
    "flow-control window (IOCM_SIM_RATE_WINDOW; default 60s)"
  ),
  frozenCode: valued("frozen-code", "code", "IOCM_SIM_FROZEN_CODE").pipe(
    Flag.mapEffect((code): Effect.Effect<"100449" | "100247", CliError.CliError> =>
      code === "100449" || code === "100247"
        ? Effect.succeed(code)
        : Effect.fail(invalid(`--frozen-code must be 100449 or 100247, got "${code}"`))
    ),
    Flag.optional,
    Flag.withDescription("100449 or 100247, answered to a frozen app (IOCM_SIM_FROZEN_CODE; default 100449)")
  ),
  faults: valued("fault", "endpoint:kind[=value]").pipe(
    Flag.atLeast(0),
    Flag.withDescription("inject a fault; repeatable (IOCM_SIM_FAULTS, comma separated, comes first); see below")
  ),
  appKeyHeader: valued("app-key-header", "name", "IOCM_SIM_APP_KEY_HEADER").pipe(
    Flag.optional,
    Flag.withDescription("header carrying the appId on business calls (IOCM_SIM_APP_KEY_HEADER; default app_key)")
  ),
  resultKeys: switched(
    "result-keys",
    "business errors as {\"resultcode\",\"resultmsg\"} instead of {\"error_code\",\"error_desc\"}"
  ),
  maxBodySize: valued("max-body-size", "bytes").pipe(
    Flag.mapEffect(integer("--max-body-size", 1, 2 ** 30)),
    Flag.optional,
    Flag.withDescription("largest request body accepted (default 65536)")
  ),
  noControl: switched("no-control", "do not serve the control API under /_simulator"),
  quiet: switched("quiet", "no per-request log lines (IOCM_SIM_QUIET=1)", "IOCM_SIM_QUIET"),
  json: switched(
    "json",
    "when ready, print one JSON line on stdout instead of the banner: {\"baseUrl\",\"protocol\",\"mutualTls\"," +
      "\"caFile\",\"certFile\",\"keyFile\",\"appId\",\"secret\"} (files null over --http; secret only when it is " +
      "the demo one); request logs go to stderr"
  )
}

/**
 * The values of the flags, as `effect/cli` parsed them.
 *
 * @internal
 */
export type Input = { readonly [K in keyof typeof flags]: (typeof flags)[K] extends Flag.Flag<infer A> ? A : never }

/** The faults of `IOCM_SIM_FAULTS` then of the `--fault` flags, merged per endpoint (a later one wins). */
const faultsOf = (flagSpecs: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const fromEnv = yield* Config.String("IOCM_SIM_FAULTS").pipe(Config.withDefault(""), Effect.orDie)
    const specs = [...fromEnv.split(",").filter((s) => s.trim() !== ""), ...flagSpecs]
    const faults: Partial<Record<Endpoint, Faults>> = {}
    for (const spec of specs) {
      const [targets, f] = yield* parseFault(spec)
      for (const target of targets) faults[target] = { ...faults[target], ...f }
    }
    return faults
  })

/**
 * Checks what the flags say together and turns them into the simulator's options.
 *
 * @internal
 */
export const resolve = (input: Input): Effect.Effect<Resolved, CliError.CliError> =>
  Effect.gen(function*() {
    if (input.http && input.mtls) return yield* invalid("--mtls needs HTTPS; drop --http")
    const secret = Option.match(input.secret, { onNone: () => demoApp.secret, onSome: Redacted.value })
    if (input.appId.length > 256 || secret.length > 256) {
      return yield* invalid("the appId and secret are at most 256 characters")
    }
    const apps = input.appId === frozenDemoApp.appId || input.apps.some((a) => a.appId === frozenDemoApp.appId)
      ? input.apps
      : [...input.apps, frozenDemoApp]
    const options: SimulatorOptions = {
      host: input.host,
      port: input.port,
      protocol: input.http ? "http" : "https",
      tls: { mutual: input.mtls },
      app: { appId: input.appId, secret: Redacted.make(secret) },
      apps,
      tokenLifetime: Option.getOrUndefined(input.tokenLifetime),
      refreshTokenLifetime: Option.getOrUndefined(input.refreshLifetime),
      rateLimit: { limit: Option.getOrUndefined(input.rateLimit), window: Option.getOrUndefined(input.rateWindow) },
      frozenCode: Option.getOrUndefined(input.frozenCode),
      faults: yield* faultsOf(input.faults),
      maxBodySize: Option.getOrUndefined(input.maxBodySize),
      appKeyHeader: Option.getOrUndefined(input.appKeyHeader),
      businessErrorKeys: input.resultKeys ? "resultcode" : "error_code",
      controlApi: !input.noControl,
      logRequests: !input.quiet
    }
    return { json: input.json, options, demoSecret: secret === demoApp.secret }
  })

// --- what it prints ---------------------------------------------------------------------------------

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
export const banner = (service: Simulator.Service, resolved: Resolved): string => {
  const o = resolved.options
  const ca = Path.join(fixturesDirectory, "ca.pem")
  const secret = resolved.demoSecret ? Redacted.value(service.app.secret) : "<as given in IOCM_SECRET / --secret>"
  // The demo secret is shown as is; any other is left to the shell, so it must be double-quoted.
  const curlSecret = resolved.demoSecret ? Redacted.value(service.app.secret) : "$IOCM_SECRET"
  const quote = resolved.demoSecret ? "'" : "\""
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
export const readyLine = (service: Simulator.Service, resolved: Resolved): string => {
  const file = (name: string) => service.protocol === "https" ? Path.join(fixturesDirectory, name) : null
  return JSON.stringify({
    baseUrl: service.baseUrl,
    protocol: service.protocol,
    mutualTls: service.mutualTls,
    caFile: file("ca.pem"),
    certFile: file("client.pem"),
    keyFile: file("client-key.pem"),
    appId: service.app.appId,
    ...(resolved.demoSecret ? { secret: Redacted.value(service.app.secret) } : {})
  })
}

/**
 * Starts the simulator, prints the banner (the ready line with `--json`) and serves until
 * interrupted (SIGINT, SIGTERM) or until the launching pnpm/tsx is gone. Fails with the
 * `SimulatorError` of a simulator that cannot start.
 *
 * @internal
 */
export const serve = (resolved: Resolved): Effect.Effect<void, SimulatorError> => {
  const say = Output.notice(resolved.json)
  return Effect.scoped(
    Effect.gen(function*() {
      const service = yield* internal.make(resolved.options)
      yield* Console.log(resolved.json ? readyLine(service, resolved) : banner(service, resolved))
      yield* Launcher.orphaned
      yield* say("launcher exited, stopping")
    })
  ).pipe(
    Effect.onExit((exit) =>
      Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? say("simulator stopped") : Effect.void
    ),
    Effect.provide(Output.layerLogger(resolved.json))
  )
}

const description = `A fake Huawei IoT platform (OceanConnect) for tests and examples: login, refreshToken, and the
business APIs (device query, registration and deletion, device commands, subscriptions) behind
the platform's authentication, with its token rules, error codes, flow control and HTTPS
(test-only certificates). Stop it with Ctrl-C or SIGTERM. Flags win over environment variables.

Durations: 90 (seconds), 500ms, 10s, 5m, 1h, 30d, or "10 seconds".

Faults, --fault <endpoint>:<kind>[=<value>]:
  endpoint  login | refresh | all, or a business one: ${businessEndpoints.join(" | ")}
  kind      error[=rate]     share of 500/50252 answers (rate 0..1, default 1)
            reset[=rate]     connection destroyed without an answer
            truncate[=rate]  200 with a JSON body cut in the middle
            html[=rate]      502 with a proxy's HTML page
            latency=<d>      added delay
            times=<n>        only the next n requests, then clear

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

Example, once it listens with the defaults:
  curl --cacert ${Path.join(fixturesDirectory, "ca.pem")} \\
    -d 'appId=${demoApp.appId}&secret=${demoApp.secret}' https://127.0.0.1:${defaultPort}/iocm/app/sec/v1.1.0/login`
  // effect/cli indents the first line of a description only.
  .split("\n").join("\n  ")

/**
 * The simulator's command, named `name` (`iocm-simulator` for its own bin, `simulator` under `iocm`).
 *
 * @internal
 */
export const make = <const Name extends string>(
  name: Name
): Command.Command<Name, Input, {}, CliError.CliError | SimulatorError> =>
  Command.make(name, flags, (input) => Effect.flatMap(resolve(input), serve)).pipe(
    Command.withDescription(description),
    Command.withShortDescription("a fake OceanConnect platform for tests: login, refresh, the business APIs")
  )

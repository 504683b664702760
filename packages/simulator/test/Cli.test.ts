/**
 * The CLI: flag and environment parsing (through `effect/cli`, as the bin parses them), and the real
 * program started in a child process, queried with curl (when installed) and Node's `https`,
 * stopped with SIGTERM.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import type * as Tokens from "@iocm/testing/Tokens"
import { ConfigProvider, Console, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Ref } from "effect"
import { CliOutput, Command } from "effect/cli"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import * as Url from "node:url"
import * as Cli from "../src/internal/cli.js"
import * as Runner from "../src/internal/runner.js"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

/** The environment `env` and the services `effect/cli` needs; usage errors are not printed. */
const inEnv = (env: Record<string, string>) =>
  Layer.mergeAll(
    ConfigProvider.layer(ConfigProvider.fromEnv({ env })),
    NodeServices.layer,
    Layer.succeed(CliOutput.Presenter, { present: () => Effect.void })
  )

/** What the bin would run with for this command line and environment, or why it refuses them. */
const parse = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const resolved = yield* Ref.make(Option.none<Cli.Resolved>())
    const command = Command.make("iocm-simulator", Cli.flags, (input) =>
      Effect.flatMap(Cli.resolve(input), (r) =>
        Ref.set(resolved, Option.some(r))))
    yield* Command.runWith(command, { version: "0.0.0" })(argv)
    return yield* Effect.flatMap(Ref.get(resolved), Effect.fromOption)
  }).pipe(Effect.provide(inEnv(env)))

const parsed = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) => Effect.orDie(parse(argv, env))

/** The message of the usage error of this command line: the parse error `effect/cli` found, or the check that failed. */
const usageError = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  parse(argv, env).pipe(
    Effect.flip,
    Effect.map((error) => error._tag === "ShowHelp" ? error.errors.map((e) => e.message).join("\n") : error.message)
  )

describe("CLI parsing", () => {
  it.effect("defaults: 127.0.0.1:8743, HTTPS, the demo app and a frozen demo app, request logs on", () =>
    Effect.gen(function*() {
      const { demoSecret, options } = yield* parsed([])
      assert.isTrue(demoSecret)
      assert.strictEqual(options.port, 8743)
      assert.strictEqual(options.host, "127.0.0.1")
      assert.strictEqual(options.protocol, "https")
      assert.isFalse(options.tls?.mutual)
      assert.strictEqual(options.app?.appId, Simulator.demoApp.appId)
      assert.deepStrictEqual(options.apps, [Cli.frozenDemoApp])
      assert.isTrue(options.logRequests)
      assert.isTrue(options.controlApi)
    }))

  it.effect("IOCM_APP_ID / IOCM_SECRET set the main app; flags win over the environment", () =>
    Effect.gen(function*() {
      const fromEnv = yield* parsed([], { IOCM_APP_ID: "env-app", IOCM_SECRET: "env-secret", IOCM_SIM_PORT: "9000" })
      assert.strictEqual(fromEnv.options.app?.appId, "env-app")
      assert.strictEqual(Redacted.value(fromEnv.options.app?.secret as Redacted.Redacted<string>), "env-secret")
      assert.isFalse(fromEnv.demoSecret)
      assert.strictEqual(fromEnv.options.port, 9000)
      const flags = yield* parsed(["--app-id", "flag-app", "--port=0"], {
        IOCM_APP_ID: "env-app",
        IOCM_SIM_PORT: "9000"
      })
      assert.strictEqual(flags.options.app?.appId, "flag-app")
      assert.strictEqual(flags.options.port, 0)
    }))

  it.effect("transport, lifetimes, flow control, frozen code, apps, keys", () =>
    Effect.gen(function*() {
      const { options } = yield* parsed([
        "--mtls",
        "--host",
        "0.0.0.0",
        "--token-lifetime",
        "300",
        "--refresh-lifetime=24h",
        "--rate-limit",
        "5",
        "--rate-window",
        "10s",
        "--frozen-code",
        "100247",
        "--app",
        "a1:s1",
        "--app",
        "a2:s2:frozen",
        "--result-keys",
        "--app-key-header",
        "x-app-key",
        "--no-control",
        "--quiet",
        "--max-body-size",
        "1024"
      ])
      assert.isTrue(options.tls?.mutual)
      assert.strictEqual(options.host, "0.0.0.0")
      assert.isTrue(Duration.equals(Duration.fromInputUnsafe(options.tokenLifetime!), Duration.seconds(300)))
      assert.isTrue(Duration.equals(Duration.fromInputUnsafe(options.refreshTokenLifetime!), Duration.hours(24)))
      assert.strictEqual(options.rateLimit?.limit, 5)
      assert.isTrue(Duration.equals(Duration.fromInputUnsafe(options.rateLimit!.window!), Duration.seconds(10)))
      assert.strictEqual(options.frozenCode, "100247")
      assert.deepStrictEqual(options.apps, [
        { appId: "a1", secret: "s1", frozen: false },
        { appId: "a2", secret: "s2", frozen: true },
        Cli.frozenDemoApp
      ])
      assert.strictEqual(options.businessErrorKeys, "resultcode")
      assert.strictEqual(options.appKeyHeader, "x-app-key")
      assert.isFalse(options.controlApi)
      assert.isFalse(options.logRequests)
      assert.strictEqual(options.maxBodySize, 1024)
      assert.strictEqual((yield* parsed(["--http"])).options.protocol, "http")
      assert.strictEqual((yield* parsed([], { IOCM_SIM_HTTP: "1" })).options.protocol, "http")
      assert.isTrue((yield* parsed([], { IOCM_SIM_MTLS: "true" })).options.tls?.mutual)
      assert.isFalse((yield* parsed([], { IOCM_SIM_MTLS: "0", IOCM_SIM_QUIET: "no" })).options.tls?.mutual)
    }))

  it.effect("--json is off unless given; a switch takes no value but true or false", () =>
    Effect.gen(function*() {
      assert.isFalse((yield* parsed([])).json)
      assert.isTrue((yield* parsed(["--json", "--port", "0"])).json)
      assert.isTrue((yield* parsed(["--json=true"])).json)
      assert.include(yield* usageError(["--json=maybe"]), "--json")
      assert.include(yield* usageError([], { IOCM_SIM_HTTP: "maybe" }), "--http")
    }))

  it.effect("faults from --fault and IOCM_SIM_FAULTS, merged per endpoint", () =>
    Effect.gen(function*() {
      const { options } = yield* parsed(
        [
          "--fault",
          "refresh:error=0.3",
          "--fault",
          "all:latency=200ms",
          "--fault",
          "devices:reset",
          "--fault=login:times=2"
        ],
        { IOCM_SIM_FAULTS: "login:html=0.1,login:truncate" }
      )
      const faults = options.faults!
      assert.strictEqual(faults.refresh?.errorRate, 0.3)
      assert.isTrue(Duration.equals(Duration.fromInputUnsafe(faults.login!.latency!), Duration.millis(200)))
      assert.isTrue(Duration.equals(Duration.fromInputUnsafe(faults.devices!.latency!), Duration.millis(200)))
      assert.strictEqual(faults.devices?.reset, 1)
      assert.strictEqual(faults.login?.html, 0.1)
      assert.strictEqual(faults.login?.truncate, 1)
      assert.strictEqual(faults.login?.times, 2)
    }))

  it.effect("faults on the business endpoints; all covers every endpoint; help and errors list them", () =>
    Effect.gen(function*() {
      const { options } = yield* parsed([
        "--fault",
        "commands:error=0.5",
        "--fault",
        "all:html",
        "--fault",
        "subscriptions:times=2"
      ])
      const faults = options.faults!
      const help = yield* helpText
      assert.strictEqual(faults.commands?.errorRate, 0.5)
      assert.strictEqual(faults.subscriptions?.times, 2)
      assert.deepStrictEqual(Object.keys(faults).sort(), [...Simulator.endpoints].sort())
      for (const endpoint of Simulator.endpoints) {
        assert.strictEqual(faults[endpoint]?.html, 1, endpoint)
        assert.include(help, endpoint)
        assert.include(yield* usageError(["--fault", "nowhere:error"]), endpoint)
      }
    }))

  it.effect("usage errors name the problem", () =>
    Effect.gen(function*() {
      assert.include(yield* usageError(["--bogus"]), "Unrecognized flag: --bogus")
      assert.include(yield* usageError(["serve"]), "\"serve\"")
      assert.include(yield* usageError(["--port", "http"]), "--port")
      assert.include(yield* usageError(["--port", "70000"]), "--port")
      assert.include(yield* usageError(["--port"]), "Missing value for flag --port")
      assert.include(yield* usageError(["--port", "1", "--port", "2"]), "--port")
      assert.include(yield* usageError(["--token-lifetime", "soon"]), "--token-lifetime")
      assert.include(yield* usageError(["--token-lifetime", "0"]), "--token-lifetime")
      assert.include(yield* usageError(["--http", "--mtls"]), "--mtls")
      assert.include(yield* usageError(["--frozen-code", "1"]), "--frozen-code")
      assert.include(yield* usageError(["--fault", "nowhere:error"]), "unknown endpoint")
      assert.include(yield* usageError(["--fault", "login:explode"]), "unknown kind")
      assert.include(yield* usageError(["--fault", "login:error=2"]), "between 0 and 1")
      assert.include(yield* usageError(["--fault", "login:latency"]), "needs a duration")
      assert.include(yield* usageError(["--fault", "login:latency=2h"]), "at most 1h")
      assert.include(yield* usageError(["--app", "only-id"]), "--app")
      assert.include(yield* usageError([], { IOCM_SIM_PORT: "-1" }), "--port")
    }))

  it.effect("--help (or -h) lists every flag, with its variable", () =>
    Effect.gen(function*() {
      const help = yield* helpText
      assert.strictEqual(yield* runCaptured(["-h"]).pipe(Effect.map(({ stdout }) => stdout.join("\n"))), help)
      assert.include(help, "iocm-simulator [flags]")
      for (
        const flag of [
          "--port",
          "--host",
          "--http",
          "--mtls",
          "--app-id",
          "--secret",
          "--app ",
          "--token-lifetime",
          "--refresh-lifetime",
          "--rate-limit",
          "--rate-window",
          "--frozen-code",
          "--fault",
          "--app-key-header",
          "--result-keys",
          "--max-body-size",
          "--no-control",
          "--quiet",
          "--json",
          "--version",
          "IOCM_APP_ID",
          "IOCM_SECRET",
          "IOCM_SIM_PORT",
          "IOCM_SIM_HOST",
          "IOCM_SIM_HTTP",
          "IOCM_SIM_MTLS",
          "IOCM_SIM_TOKEN_LIFETIME",
          "IOCM_SIM_REFRESH_LIFETIME",
          "IOCM_SIM_RATE_LIMIT",
          "IOCM_SIM_RATE_WINDOW",
          "IOCM_SIM_FROZEN_CODE",
          "IOCM_SIM_FAULTS",
          "IOCM_SIM_APP_KEY_HEADER",
          "IOCM_SIM_QUIET"
        ]
      ) {
        assert.include(help, flag)
      }
    }))
})

// --- the real program in a child process ------------------------------------------------------

const packageRoot = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..")
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli")
// tsx passes the flags before the script to node: `@iocm/source` resolves `@iocm/core` to its sources.
const tsxBin = [tsxCli, "--conditions=@iocm/source", "src/bin.ts"]

interface Running {
  readonly child: ChildProcess.ChildProcess
  readonly output: () => string
  readonly baseUrl: string
}

/** Starts `bin.ts` with tsx and waits for its banner. */
const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.callback<Running, Error>((resume) => {
      const child = ChildProcess.spawn(process.execPath, [...tsxBin, ...args], {
        cwd: packageRoot,
        env: { ...process.env, IOCM_APP_ID: "", IOCM_SECRET: "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      const onData = (chunk: Buffer) => {
        output += chunk.toString("utf8")
        const match = /base URL\s+(\S+)/.exec(output)
        if (match !== null && output.includes("Ctrl-C")) {
          resume(Effect.succeed({ child, output: () => output, baseUrl: match[1]! }))
        }
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", onData)
      child.on("exit", (code) => resume(Effect.fail(new Error(`exited with ${code}: ${output}`))))
    }).pipe(Effect.timeout("20 seconds")),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

const stop = (running: Running, signal: NodeJS.Signals) =>
  Effect.callback<number | null>((resume) => {
    running.child.on("exit", (code) => resume(Effect.succeed(code)))
    running.child.kill(signal)
  }).pipe(Effect.timeout("10 seconds"))

const run = (args: ReadonlyArray<string>) =>
  Effect.callback<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    ChildProcess.execFile(
      process.execPath,
      [...tsxBin, ...args],
      { cwd: packageRoot },
      (error, stdout, stderr) =>
        resume(Effect.succeed({ code: error === null ? 0 : (error.code as number | null), stdout, stderr }))
    )
  })

const curl = (args: ReadonlyArray<string>) =>
  Effect.callback<{ ok: boolean; stdout: string }>((resume) => {
    ChildProcess.execFile("curl", ["-sS", ...args], (error, stdout) =>
      resume(Effect.succeed({ ok: error === null, stdout })))
  })

const hasCurl = ChildProcess.spawnSync("curl", ["--version"]).status === 0

describe("CLI program", () => {
  it.live(
    "prints the base URL and the demo credentials, answers curl, stops cleanly on SIGTERM",
    () =>
      Effect.gen(function*() {
        const running = yield* start(["--port", "0"])
        assert.match(running.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
        assert.include(running.output(), `appId=${Simulator.demoApp.appId} secret=${Simulator.demoApp.secret}`)
        const ca = Path.join(Simulator.fixturesDirectory, "ca.pem")
        if (hasCurl) {
          const res = yield* curl([
            "--cacert",
            ca,
            "-d",
            `appId=${Simulator.demoApp.appId}&secret=${Simulator.demoApp.secret}`,
            `${running.baseUrl}/iocm/app/sec/v1.1.0/login`
          ])
          assert.isTrue(res.ok)
          const body = JSON.parse(res.stdout) as Tokens.TokenBody
          assert.strictEqual(body.tokenType, "bearer")
          assert.strictEqual(body.expiresIn, 3600)
        }
        const viaNode = yield* W.login({ baseUrl: running.baseUrl, ca: W.fixture("ca.pem") }, Simulator.demoApp)
        assert.strictEqual(viaNode.status, 200)
        const code = yield* stop(running, "SIGTERM")
        assert.strictEqual(code, 0)
        assert.include(running.output(), "simulator stopped")
        // The request log has the line, and no token.
        assert.include(running.output(), "POST /iocm/app/sec/v1.1.0/login 200 ok")
        assert.notInclude(running.output(), W.tokens(viaNode).accessToken)
      }),
    { timeout: 30_000 }
  )

  it.live(
    "IOCM_APP_ID / IOCM_SECRET: the app is the given one and its secret is not printed; SIGINT stops",
    () =>
      Effect.gen(function*() {
        const running = yield* start(["--port", "0", "--quiet"], {
          IOCM_APP_ID: "env-app",
          IOCM_SECRET: "env-secret-value"
        })
        assert.include(running.output(), "appId=env-app")
        assert.notInclude(running.output(), "env-secret-value")
        const target = { baseUrl: running.baseUrl, ca: W.fixture("ca.pem") }
        assert.strictEqual((yield* W.login(target, { appId: "env-app", secret: "env-secret-value" })).status, 200)
        assert.strictEqual((yield* W.login(target, Simulator.demoApp)).status, 401)
        if (hasCurl) {
          // The banner's "Try" line works as printed, with the secret left to the shell.
          const tryLine = running.output().split("\n").find((line) => line.trim().startsWith("curl "))
          assert.isDefined(tryLine)
          const res = yield* Effect.callback<{ ok: boolean; stdout: string }>((resume) => {
            ChildProcess.exec(
              `${tryLine!.trim()} -sS`,
              { env: { ...process.env, IOCM_SECRET: "env-secret-value" } },
              (error, stdout) => resume(Effect.succeed({ ok: error === null, stdout }))
            )
          })
          assert.isTrue(res.ok)
          assert.strictEqual((JSON.parse(res.stdout) as Tokens.TokenBody).tokenType, "bearer")
        }
        assert.strictEqual(yield* stop(running, "SIGINT"), 0)
      }),
    { timeout: 30_000 }
  )

  it.live(
    "--json: one JSON line on stdout with the base URL, the files and the demo app; logs on stderr",
    () =>
      Effect.gen(function*() {
        const child = ChildProcess.spawn(process.execPath, [...tsxBin, "--json", "--port", "0", "--mtls"], {
          cwd: packageRoot,
          env: { ...process.env, IOCM_APP_ID: "", IOCM_SECRET: "" },
          stdio: ["ignore", "pipe", "pipe"]
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
        let stdout = ""
        let stderr = ""
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
        const exited = Effect.callback<number | null>((resume) => {
          child.on("exit", (code) => resume(Effect.succeed(code)))
        })
        const line = yield* Effect.callback<string, Error>((resume) => {
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString("utf8")
            if (stdout.includes("\n")) resume(Effect.succeed(stdout.slice(0, stdout.indexOf("\n"))))
          })
          child.on("exit", (code) => resume(Effect.fail(new Error(`exited with ${code}: ${stdout}${stderr}`))))
        }).pipe(Effect.timeout("20 seconds"))
        const ready = JSON.parse(line) as Record<string, unknown>
        assert.match(String(ready["baseUrl"]), /^https:\/\/127\.0\.0\.1:\d+$/)
        assert.strictEqual(ready["protocol"], "https")
        assert.isTrue(ready["mutualTls"])
        assert.strictEqual(ready["caFile"], Path.join(Simulator.fixturesDirectory, "ca.pem"))
        assert.strictEqual(ready["certFile"], Path.join(Simulator.fixturesDirectory, "client.pem"))
        assert.strictEqual(ready["keyFile"], Path.join(Simulator.fixturesDirectory, "client-key.pem"))
        assert.strictEqual(ready["appId"], Simulator.demoApp.appId)
        assert.strictEqual(ready["secret"], Simulator.demoApp.secret)
        // The files it names are the ones to use: a mutual-TLS login with them succeeds.
        const read = (key: string) => Fs.readFileSync(String(ready[key]), "utf8")
        const res = yield* W.login({ baseUrl: String(ready["baseUrl"]), ca: read("caFile") }, Simulator.demoApp, {
          cert: read("certFile"),
          key: read("keyFile")
        })
        assert.strictEqual(res.status, 200)
        child.kill("SIGTERM")
        assert.strictEqual(yield* exited.pipe(Effect.timeout("10 seconds")), 0)
        // Nothing but the ready line on stdout; the request log and the stop notice went to stderr.
        assert.strictEqual(stdout, `${line}\n`)
        assert.include(stderr, "POST /iocm/app/sec/v1.1.0/login 200 ok")
        assert.include(stderr, "simulator stopped")
      }),
    { timeout: 30_000 }
  )

  it.live(
    "--json with a secret from the environment leaves the secret out; --http has no files",
    () =>
      Effect.gen(function*() {
        const command = yield* parsed(["--json", "--http"], { IOCM_APP_ID: "env-app", IOCM_SECRET: "env-secret-value" })
        const service = yield* Simulator.make(command.options)
        const ready = JSON.parse(Cli.readyLine(service, command)) as Record<string, unknown>
        assert.strictEqual(ready["appId"], "env-app")
        assert.notProperty(ready, "secret")
        assert.notInclude(Cli.readyLine(service, command), "env-secret-value")
        assert.isNull(ready["caFile"])
        assert.isNull(ready["certFile"])
        assert.isNull(ready["keyFile"])
        assert.strictEqual(ready["protocol"], "http")
      }).pipe(Effect.scoped),
    { timeout: 30_000 }
  )

  it.live("--version prints the package's version and exits 0", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* run(["--version"])
      const manifest = JSON.parse(Fs.readFileSync(Path.join(packageRoot, "package.json"), "utf8")) as {
        version: string
      }
      assert.strictEqual(code, 0)
      assert.strictEqual(stdout, `${manifest.version}\n`)
    }), { timeout: 30_000 })

  it.live("--help exits 0; a bad flag exits 2 with a pointer to --help, on stderr only", () =>
    Effect.gen(function*() {
      const [help, bad] = yield* Effect.all([run(["--help"]), run(["--json", "--port", "nope"])], { concurrency: 2 })
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "--fault <endpoint>:<kind>")
      assert.strictEqual(bad.code, 2)
      assert.include(bad.stderr, "--port must be a whole number")
      assert.include(bad.stderr, "Run \"pnpm simulator --help\" for the flags.")
      assert.strictEqual(bad.stdout, "")
    }), { timeout: 30_000 })

  it.live("a simulator that cannot start says why on stderr and exits 1", () =>
    Effect.gen(function*() {
      const busy = yield* Simulator.make({ protocol: "http" })
      const port = new URL(busy.baseUrl).port
      const { code, stderr, stdout } = yield* run(["--json", "--http", "--port", port])
      assert.strictEqual(code, 1)
      assert.match(stderr, /^simulator: Simulator failed to start \(Listen\)/)
      assert.strictEqual(stdout, "")
    }).pipe(Effect.scoped), { timeout: 30_000 })
})

/** A console that keeps what would go to stdout apart from what would go to stderr. */
const capturedConsole = () => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  const firstStdout = Deferred.makeUnsafe<string>()
  const toStdout = (...args: ReadonlyArray<unknown>) => {
    const line = args.map(String).join(" ")
    stdout.push(line)
    Deferred.doneUnsafe(firstStdout, Effect.succeed(line))
  }
  const toStderr = (...args: ReadonlyArray<unknown>) => stderr.push(args.map(String).join(" "))
  const console: Console.Console = Object.assign(Object.create(globalThis.console) as Console.Console, {
    log: toStdout,
    info: toStdout,
    debug: toStdout,
    dir: toStdout,
    table: toStdout,
    error: toStderr,
    warn: toStderr,
    trace: toStderr
  })
  return { console, stdout, stderr, firstStdout: Deferred.await(firstStdout) }
}

/** Runs the bin's command line in this process, keeping what it prints. */
const runCaptured = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const captured = capturedConsole()
    const code = yield* Runner.main(argv, "pnpm simulator").pipe(
      Effect.provide(NodeServices.layer),
      Effect.provideService(Console.Console, captured.console)
    )
    return { code, stdout: captured.stdout, stderr: captured.stderr }
  })

/** What `--help` prints. */
const helpText = Effect.map(runCaptured(["--help"]), ({ stdout }) => stdout.join("\n"))

describe("CLI output with --json", () => {
  it.live("stdout carries the ready line only: request logs and notices go to stderr", () =>
    Effect.gen(function*() {
      const captured = capturedConsole()
      const fiber = yield* Runner.main(["--json", "--port", "0", "--http"], "pnpm simulator").pipe(
        Effect.provide(NodeServices.layer),
        Effect.provideService(Console.Console, captured.console),
        Effect.forkChild
      )
      const ready = JSON.parse(yield* captured.firstStdout.pipe(Effect.timeout("10 seconds"))) as { baseUrl: string }
      assert.strictEqual((yield* W.login({ baseUrl: ready.baseUrl, ca: "" }, Simulator.demoApp)).status, 200)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(captured.stdout.length, 1)
      assert.match(captured.stderr.join("\n"), /INFO  POST \/iocm\/app\/sec\/v1\.1\.0\/login 200 ok \d+ms/)
      assert.include(captured.stderr, "simulator stopped")
    }), { timeout: 30_000 })

  it.effect("a defect is reported on stderr, never on stdout, and fails the run (exit code 1)", () =>
    Effect.gen(function*() {
      const captured = capturedConsole()
      // An environment that cannot be read: a defect while the command line is parsed.
      const unreadable = ConfigProvider.make(() => Effect.die(new Error("boom: an unreadable environment")))
      const exit = yield* Runner.main(["--json", "--port", "0"], "pnpm simulator").pipe(
        Effect.provide(Layer.merge(NodeServices.layer, ConfigProvider.layer(unreadable))),
        Effect.provideService(Console.Console, captured.console),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(captured.stdout, [])
      assert.include(captured.stderr.join("\n"), "boom: an unreadable environment")
    }))
})

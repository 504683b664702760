/**
 * The app of the consumer test (`.ci/consumer`), as a user would write it: installed from the packed
 * tarballs with npm, compiled with plain `tsc`, run with `node`. It starts the packed simulator
 * through its `bin` with mutual TLS, reads its `--json` ready line, obtains a token with
 * `TokenService` and makes authenticated business calls, then stops the simulator. Exit code 0 means
 * it all worked; the last line on stdout is a JSON summary.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { Console, Effect, Layer, Redacted } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Readline from "node:readline"

/** What `iocm-simulator --json` prints once it listens. */
interface Ready {
  readonly baseUrl: string
  readonly mutualTls: boolean
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  readonly appId: string
  readonly secret?: string
}

interface Simulator {
  readonly ready: Ready
  /** Lines on stdout after the ready line: there must be none. */
  readonly extraLines: Array<string>
  /** Set once the process has exited. */
  exit?: { readonly code: number | null; readonly signal: NodeJS.Signals | null }
}

const bin = Path.join(process.cwd(), "node_modules", ".bin", "iocm-simulator")

const parseReady = (line: string): Ready => {
  const value = JSON.parse(line) as Partial<Ready>
  for (const key of ["baseUrl", "caFile", "certFile", "keyFile", "appId", "secret"] as const) {
    if (typeof value[key] !== "string") throw new Error(`the ready line has no ${key}: ${line}`)
  }
  if (value.mutualTls !== true) throw new Error(`the simulator is not requiring mutual TLS: ${line}`)
  return value as Ready
}

/** Starts the simulator's `bin` and waits for its ready line; stops it (SIGTERM) with the scope. */
const startSimulator = Effect.acquireRelease(
  Effect.callback<{ readonly child: ChildProcess.ChildProcess; readonly simulator: Simulator }, Error>((resume) => {
    const child = ChildProcess.spawn(bin, ["--json", "--port", "0", "--mtls", "--quiet"], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let simulator: Simulator | undefined
    const extraLines: Array<string> = []
    Readline.createInterface({ input: child.stdout }).on("line", (line) => {
      if (simulator !== undefined) return extraLines.push(line)
      try {
        simulator = { ready: parseReady(line), extraLines }
        resume(Effect.succeed({ child, simulator }))
      } catch (error) {
        child.kill("SIGKILL")
        resume(Effect.fail(error instanceof Error ? error : new Error(String(error))))
      }
    })
    child.on("exit", (code, signal) => {
      if (simulator === undefined) {
        resume(Effect.fail(new Error(`${bin} exited (${code ?? signal}) before its ready line`)))
      } else {
        simulator.exit = { code, signal }
      }
    })
    child.on("error", (error) => resume(Effect.fail(error)))
    // Interrupted before the ready line (the timeout below): the release never runs, so kill it here.
    return Effect.sync(() => {
      if (simulator === undefined) child.kill("SIGKILL")
    })
  }).pipe(Effect.timeout("30 seconds")),
  ({ child }) =>
    Effect.callback<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      child.on("exit", () => resume(Effect.void))
      child.kill("SIGTERM")
    }).pipe(Effect.timeout("10 seconds"), Effect.ignore)
)

/** The app's layers: the platform the simulator names, mutual TLS with its files, a token in memory. */
const appLayer = (ready: Ready) =>
  TokenService.layer().pipe(
    Layer.provide(TokenStore.layerMemory),
    Layer.provide(IocmAuth.layer),
    Layer.provideMerge(Layer.merge(
      PlatformConfig.layer({
        baseUrl: ready.baseUrl,
        appId: ready.appId,
        secret: Redacted.make(ready.secret ?? "")
      }),
      IocmHttp.layer({
        ca: Fs.readFileSync(ready.caFile, "utf8"),
        cert: Fs.readFileSync(ready.certFile, "utf8"),
        key: Fs.readFileSync(ready.keyFile, "utf8")
      })
    ))
  )

const businessCalls = Effect.gen(function*() {
  const first = yield* TokenService.get
  const config = yield* PlatformConfig.PlatformConfig
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated,
    HttpClient.filterStatusOk
  )
  const pages: Array<unknown> = []
  for (const pageNo of [0, 1, 2]) {
    const response = yield* client.get(Wire.devicesPath, { urlParams: { pageNo, pageSize: 10 } })
    pages.push(yield* response.json)
  }
  const again = yield* TokenService.get
  if (again.generation !== first.generation) {
    return yield* Effect.fail(new Error("the token was not kept between calls"))
  }
  return { tokenGeneration: first.generation, pages }
})

const program = Effect.gen(function*() {
  const { result, simulator } = yield* Effect.scoped(
    Effect.gen(function*() {
      const { simulator } = yield* startSimulator
      const result = yield* businessCalls.pipe(Effect.provide(appLayer(simulator.ready)))
      return { result, simulator }
    })
  )
  // The simulator is stopped now: SIGTERM is a clean stop (exit 0), and --json printed one line only.
  if (simulator.exit?.code !== 0) {
    return yield* Effect.fail(new Error(`the simulator did not stop cleanly: ${JSON.stringify(simulator.exit)}`))
  }
  if (simulator.extraLines.length > 0) {
    return yield* Effect.fail(new Error(`the simulator printed more than its ready line: ${simulator.extraLines}`))
  }
  yield* Console.log(JSON.stringify({ ok: true, baseUrl: simulator.ready.baseUrl, ...result }))
})

NodeRuntime.runMain(program)

/**
 * `pnpm demo:fleet`: a fleet of four `fleet-worker` processes of one app sharing one access token
 * through a private `redis-server`, against an embedded simulator with 5-second tokens, for
 * `IOCM_DEMO_DURATION` (default `20 seconds`). It prints each worker's token events as they happen,
 * then each worker's summary and the simulator's counters: one login, and one refresh per token
 * lifetime for the whole fleet.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as IocmConfig from "@iocm/core/IocmConfig"
import { Simulator } from "@iocm/simulator"
import * as RedisServer from "@iocm/testing/Redis"
import { Config, Console, Duration, Effect, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Platform from "./src/Platform.js"

const WORKERS = 4
const root = fileURLToPath(new URL("..", import.meta.url))

/** What a worker reported on its last line. */
interface WorkerReport {
  readonly ok: boolean
  readonly calls: number
  readonly failures: number
  readonly tokens: ReadonlyArray<string>
}

/** Runs worker `n` with `env`, printing its lines as `[worker n] …`, and returns its last line's report. */
const worker = (n: number, env: Record<string, string>): Effect.Effect<WorkerReport | undefined> =>
  Effect.callback<WorkerReport | undefined>((resume) => {
    const child = ChildProcess.spawn(
      process.execPath,
      ["--conditions=@iocm/source", "--import", "tsx", "examples/fleet-worker.ts"],
      { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] }
    )
    let last = ""
    let pending = ""
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n")
      pending = lines.pop() ?? ""
      for (const line of lines.filter((line) => line.length > 0)) {
        last = line
        if (!line.startsWith("{")) process.stdout.write(`[worker ${n}] ${line}\n`)
      }
    })
    child.on("close", () => {
      const line = pending.length > 0 ? pending : last
      try {
        resume(Effect.succeed(JSON.parse(line) as WorkerReport))
      } catch {
        resume(Effect.succeed(undefined))
      }
    })
    return Effect.sync(() => void child.kill("SIGTERM"))
  })

const hasRedis = (): boolean => ChildProcess.spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0

const program = Effect.gen(function*() {
  if (!hasRedis()) {
    yield* Console.error(
      "demo:fleet needs redis-server, which is not installed. On Debian or Ubuntu: apt-get install -y redis-server"
    )
    return yield* Effect.fail("redis-server missing" as const)
  }
  const duration = yield* IocmConfig.duration("IOCM_DEMO_DURATION").pipe(Config.withDefault(Duration.seconds(20)))
  const redis = yield* RedisServer.server
  const simulator = yield* Simulator.make({ tokenLifetime: "5 seconds", rateLimit: { limit: 1_000_000 } })
  yield* Console.log(
    `a fleet of ${WORKERS} workers for ${Duration.format(duration)}: simulator ${simulator.baseUrl}, Redis ${redis.url}`
  )
  const env = {
    IOCM_BASE_URL: simulator.baseUrl,
    IOCM_APP_ID: simulator.app.appId,
    IOCM_SECRET: Redacted.value(simulator.app.secret),
    IOCM_CA_FILE: join(Simulator.fixturesDirectory, "ca.pem"),
    IOCM_REDIS_URL: redis.url,
    IOCM_STORE_KEY: randomBytes(32).toString("base64"),
    IOCM_DEMO_DURATION: `${Duration.toMillis(duration)} millis`,
    IOCM_FLEET_INTERVAL: "500 millis"
  }
  const reports = yield* Effect.all(
    Array.from({ length: WORKERS }, (_, i) => worker(i + 1, env)),
    { concurrency: "unbounded" }
  )
  reports.forEach((report, i) =>
    process.stdout.write(
      `[worker ${i + 1}] ${
        report === undefined
          ? "ended without a summary"
          : `${report.calls - report.failures} of ${report.calls} business calls succeeded, tokens ${
            report.tokens.join(" ")
          }`
      }\n`
    )
  )
  const counters = yield* simulator.counters
  const tokens = new Set(reports.flatMap((report) => report?.tokens ?? []))
  yield* Console.log(
    `simulator: ${counters.logins} login(s), ${counters.refreshes} refresh(es), ${tokens.size} distinct token(s) used by the fleet`
  )
  if (reports.some((report) => report === undefined || !report.ok)) {
    return yield* Effect.fail("a worker failed" as const)
  }
})

NodeRuntime.runMain(Effect.scoped(program).pipe(Effect.provide(Platform.environment)), { teardown: Platform.teardown })

/**
 * `pnpm example fleet-worker` as a fleet: five worker processes of one app against one simulator
 * (5-second tokens), sharing a real `redis-server` — and, to show the test can fail, the same
 * fleet on private stores.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import * as RedisServer from "@iocm/testing/Redis"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { runExample, simulatorEnv } from "./runExample.js"

const WORKERS = 5

interface WorkerReport {
  readonly ok: boolean
  readonly calls: number
  readonly failures: number
  readonly tokens: ReadonlyArray<string>
}

/** Runs the fleet for `duration` with `env` (and a fresh store key), and returns each worker's report. */
const runFleet = (env: Record<string, string>) =>
  Effect.all(
    Array.from({ length: WORKERS }, () => runExample("fleet-worker", env)),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((runs) =>
    runs.map((run) => {
      assert.strictEqual(run.status, 0, run.stderr)
      return JSON.parse(run.lastLine) as WorkerReport
    })
  ))

describe.runIf(RedisServer.serverAvailable()).concurrent("pnpm example fleet-worker", () => {
  it.live(
    "five workers sharing Redis: one login, one token request per token issued, no call fails",
    () =>
      Effect.gen(function*() {
        const redis = yield* RedisServer.server
        const simulator = yield* Simulator.make({ tokenLifetime: "5 seconds", rateLimit: { limit: 1_000_000 } })
        const reports = yield* runFleet({
          ...simulatorEnv(simulator),
          IOCM_REDIS_URL: redis.url,
          IOCM_STORE_KEY: randomBytes(32).toString("base64"),
          IOCM_DEMO_DURATION: "12 seconds"
        })
        const counters = yield* simulator.counters
        for (const report of reports) {
          assert.isTrue(report.ok, JSON.stringify(report))
          assert.isAtLeast(report.calls, 10)
        }
        const tokens = new Set(reports.flatMap((report) => report.tokens))
        assert.strictEqual(counters.logins, 1)
        // One flight for the fleet: 5-second tokens refreshed 1.25–2.5 s after issue give at most
        // 12 / 1.25 refreshes in 12 s whatever the number of workers (a ping-pong multiplies them).
        assert.isAtLeast(counters.refreshes, 2)
        assert.isAtMost(counters.refreshes, 10)
        // Every token the fleet used was one it asked for (one replaced before any worker's next call goes unseen).
        assert.isAtMost(tokens.size, counters.logins + counters.refreshes)
        assert.isAtLeast(tokens.size, counters.refreshes)
      }),
    120_000
  )

  it.live(
    "the same fleet on private stores invalidates itself: several logins (the test can fail)",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.make({ tokenLifetime: "5 seconds", rateLimit: { limit: 1_000_000 } })
        const reports = yield* runFleet({
          ...simulatorEnv(simulator),
          IOCM_FLEET_STORE: "memory",
          IOCM_DEMO_DURATION: "6 seconds"
        })
        const counters = yield* simulator.counters
        assert.isAtLeast(counters.logins, 2)
        const tokens = new Set(reports.flatMap((report) => report.tokens))
        assert.isAbove(tokens.size, 1)
      }),
    120_000
  )
})

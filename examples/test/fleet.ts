/**
 * A fleet of `pnpm example fleet-worker` processes for the tests: started together with the same
 * variables, each one's last stdout line read as its report; and a view of what the fleet's Redis
 * holds (the stored generation, the lease's owner).
 */
import { assert } from "@effect/vitest"
import type { Simulator } from "@iocm/simulator"
import type * as RedisServer from "@iocm/testing/Redis"
import { Effect } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createClient } from "redis"
import { type ExampleRun, runExample } from "./runExample.js"

/** The last line of a worker. */
export interface WorkerReport {
  readonly ok: boolean
  readonly calls: number
  readonly failures: number
  readonly tokens: ReadonlyArray<string>
  readonly lastFailureAt: number | null
}

/** A worker's run that exited 0, read as its report; the last line in full when it is not one. */
export const reportOf = (run: ExampleRun): WorkerReport => {
  assert.strictEqual(
    run.status,
    0,
    `exit ${run.status}; stderr: ${run.stderr.slice(-3000)}; stdout: ${run.stdout.slice(-1500)}`
  )
  return JSON.parse(run.lastLine) as WorkerReport
}

/**
 * `workers` workers run with `env`, all at once; each exits 0 and prints its report. With
 * `IOCM_FLEET_TEST_LOGS` set to a directory, each worker's whole output is written there
 * (`worker-<n>.log`), to see what a fleet did.
 */
export const runFleet = (env: Record<string, string>, workers = 5): Effect.Effect<ReadonlyArray<WorkerReport>> =>
  Effect.all(
    Array.from({ length: workers }, () => runExample("fleet-worker", env)),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((runs) => {
    keepLogs(runs)
    return runs.map(reportOf)
  }))

/** Writes the output of `runs` to `IOCM_FLEET_TEST_LOGS`, when it is set. */
const keepLogs = (runs: ReadonlyArray<ExampleRun>): void => {
  const directory = process.env.IOCM_FLEET_TEST_LOGS
  if (directory === undefined) return
  mkdirSync(directory, { recursive: true })
  runs.forEach((run, n) =>
    writeFileSync(join(directory, `worker-${n}.log`), `${run.stdout}\n--- stderr\n${run.stderr}`)
  )
}

/**
 * Waits until a fleet started on `simulator` is running: its processes take several seconds to
 * start on a loaded machine, so a scenario's clock starts once the simulator has answered some
 * business calls, and then a few seconds more for the last process to join.
 */
export const awaitRunning = (simulator: Simulator.Simulator.Service): Effect.Effect<void> =>
  Effect.gen(function*() {
    while ((yield* simulator.counters).businessCalls < 10) yield* Effect.sleep("100 millis")
    yield* Effect.sleep("3 seconds")
  })

/** The token requests the simulator has answered with a token. */
export const tokenRequests = (counters: Simulator.Counters): number => counters.logins + counters.refreshes

/** What the tests read of the fleet's Redis (default key prefix `iocm:`), on a connection of the test's own. */
export interface Probe {
  /** The stored generation, or undefined when the store is empty or Redis is down. */
  readonly generation: Effect.Effect<number | undefined>
  /** The lease's owner (`host:pid:random`), or undefined when no process holds it or Redis is down. */
  readonly leaseOwner: Effect.Effect<string | undefined>
  /** Every value Redis holds, as text. */
  readonly dump: Effect.Effect<string>
}

/** A probe of the fleet of `appId` on `server`, closed with the scope. */
export const probe = (server: RedisServer.Server, appId: string) =>
  Effect.gen(function*() {
    const client = createClient({ url: server.url, disableOfflineQueue: true })
    client.on("error", () => {})
    yield* Effect.acquireRelease(
      Effect.promise(() => client.connect()),
      () => Effect.sync(() => client.destroy())
    )
    const orUndefined = <A>(query: () => Promise<A>) =>
      Effect.tryPromise(query).pipe(Effect.orElseSucceed(() => undefined))
    return {
      generation: orUndefined(() => client.hGet(`iocm:{${appId}}:token`, "gen")).pipe(
        Effect.map((gen) => (gen === undefined || gen === null ? undefined : Number(gen)))
      ),
      leaseOwner: orUndefined(() => client.get(`iocm:{${appId}}:lease`)).pipe(
        Effect.map((owner) => owner ?? undefined)
      ),
      dump: Effect.promise(async () => {
        const values: Array<string> = []
        for (const key of await client.keys("*")) {
          const type = await client.type(key)
          values.push(
            key,
            type === "hash"
              ? JSON.stringify(await client.hGetAll(key))
              : type === "string"
              ? String(await client.get(key))
              : type
          )
        }
        return values.join("\n")
      })
    } satisfies Probe
  })

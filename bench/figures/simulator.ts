/**
 * Simulator: login + refresh requests/s that the simulator serves, against a minimal `node:https`
 * server answering the same JSON with the same certificates and mutual TLS. Both run in the
 * server process; the load generator (undici, keep-alive, one connection per worker) runs in the
 * bench process, so each side has a core. Each worker has its own app and alternates login and
 * refresh (with the refresh token the login returned). ratio = simulator / minimal requests/s;
 * target ≥ 0.5. The server's CPU time per request is reported too, as a check that the load
 * generator was not the bottleneck.
 */
import * as Undici from "@effect/platform-node/Undici"
import * as Wire from "@iocm/core/Wire"
import * as Effect from "effect/Effect"
import type { Figure, FigureResult } from "../harness.js"
import { compare, median, now, progress, round, samples } from "../harness.js"
import { app } from "../servers/protocol.js"
import { type Remote, Servers } from "../servers/remote.js"
import { type Pems, readPems } from "../support.js"

const WORKERS = 32
const PAIRS_PER_WORKER = 60

export interface Load {
  readonly requestsPerSecond: number
  readonly serverCpuMicrosPerRequest: number
  readonly errors: number
}

const worker = async (pool: Undici.Dispatcher, origin: string, index: number): Promise<number> => {
  const credentials = app(`load-${index}`)
  const form = new URLSearchParams({ appId: credentials.appId, secret: credentials.secret }).toString()
  let errors = 0
  const post = async (path: string, contentType: string, body: string) => {
    const response = await Undici.request(origin + path, {
      dispatcher: pool,
      method: "POST",
      headers: { "content-type": contentType, accept: "application/json" },
      body
    })
    const text = await response.body.text()
    if (response.statusCode !== 200) {
      errors++
      return undefined
    }
    return JSON.parse(text) as { readonly refreshToken: string }
  }
  for (let i = 0; i < PAIRS_PER_WORKER; i++) {
    const login = await post(Wire.loginPath, "application/x-www-form-urlencoded", form)
    if (login === undefined) continue
    await post(
      Wire.refreshPath,
      "application/json",
      JSON.stringify({ appId: credentials.appId, secret: credentials.secret, refreshToken: login.refreshToken })
    )
  }
  return errors
}

export const load = (remote: Remote, pool: Undici.Dispatcher, origin: string): Effect.Effect<Load> =>
  Effect.gen(function*() {
    const cpuBefore = yield* remote.cpuMicros
    const start = now()
    const errors = yield* Effect.promise(() =>
      Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(pool, origin, i)))
    )
    const seconds = (now() - start) / 1000
    const cpu = (yield* remote.cpuMicros) - cpuBefore
    const requests = WORKERS * PAIRS_PER_WORKER * 2
    return {
      requestsPerSecond: requests / seconds,
      serverCpuMicrosPerRequest: cpu / requests,
      errors: errors.reduce((a, b) => a + b, 0)
    }
  })

const measure = (remote: Remote, pems: Pems) =>
  Effect.gen(function*() {
    yield* progress(`simulator: login+refresh requests/s, ${WORKERS} workers, vs a minimal node:https server`)
    const pool = (origin: string) =>
      Effect.acquireRelease(
        Effect.sync(() =>
          new Undici.Pool(origin, {
            connections: WORKERS,
            connect: { ca: pems.ca, cert: pems.clientCert, key: pems.clientKey }
          })
        ),
        (pool) => Effect.promise(() => pool.close())
      )
    const simulatorPool = yield* pool(remote.info.simulator)
    const minimalPool = yield* pool(remote.info.minimal)
    const details = { simulator: [] as Array<Load>, minimal: [] as Array<Load> }
    const comparison = yield* compare({
      label: "simulator",
      warmup: 1,
      rounds: 6,
      ours: Effect.map(load(remote, simulatorPool, remote.info.simulator), (l) => {
        details.simulator.push(l)
        return l.requestsPerSecond
      }),
      baseline: Effect.map(load(remote, minimalPool, remote.info.minimal), (l) => {
        details.minimal.push(l)
        return l.requestsPerSecond
      }),
      ratio: (ours, baseline) => ours / baseline
    })
    // The floor of the simulator's HTTP stack: effect's HttpRouter answering the same JSON.
    const floorPool = yield* pool(remote.info.effectFloor)
    const floor: Array<Load> = []
    for (let i = 0; i < 4; i++) {
      floor.push(yield* load(remote, floorPool, remote.info.effectFloor))
      yield* progress(`simulator: effect floor round ${i + 1} ${round(floor[i]!.requestsPerSecond)} req/s`)
    }
    const floorMeasured = floor.slice(1)
    const measured = (loads: Array<Load>) => loads.slice(-comparison.ours.length)
    const cpu = (loads: Array<Load>) => round(median(measured(loads).map((l) => l.serverCpuMicrosPerRequest)), 3)
    const errors = [...details.simulator, ...details.minimal, ...floor].reduce((a, l) => a + l.errors, 0)
    const ratio = comparison.ratioMedian
    const result: FigureResult = {
      name: "simulator",
      ours: round(comparison.oursMedian),
      baseline: round(comparison.baselineMedian),
      unit: "req/s",
      ratioDefinition: "simulator / minimal node:https server, login+refresh requests/s",
      ratio: round(ratio, 3),
      target: "ratio ≥ 0.5",
      pass: ratio >= 0.5 && errors === 0,
      rounds: comparison.ours.length,
      details: {
        workers: WORKERS,
        requestsPerRound: WORKERS * PAIRS_PER_WORKER * 2,
        serverCpuMicrosPerRequest: {
          simulator: cpu(details.simulator),
          minimal: cpu(details.minimal),
          effectFloor: round(median(floorMeasured.map((l) => l.serverCpuMicrosPerRequest)), 3)
        },
        effectFloor: {
          what: "effect/http HttpRouter on NodeHttpServer, same TLS, the same two routes answering the same " +
            "JSON, no server spans, and nothing else (no state, validation, counters or faults)",
          requestsPerSecond: round(median(floorMeasured.map((l) => l.requestsPerSecond))),
          simulatorOverFloor: round(comparison.oursMedian / median(floorMeasured.map((l) => l.requestsPerSecond)), 3)
        },
        non200Answers: errors,
        ...samples(comparison)
      }
    }
    return result
  })

export const figure: Figure<Servers> = {
  id: "simulator",
  run: Effect.gen(function*() {
    const remote = yield* (yield* Servers).get
    return yield* Effect.scoped(measure(remote, readPems()))
  })
}

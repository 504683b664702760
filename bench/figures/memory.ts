/**
 * Memory: the heap after 1 000 000 `get` and 10 000 forced refresh cycles against the heap before,
 * both after a full GC. The refreshes go through `TokenService.refresh` against an in-memory
 * `IocmAuth` that builds a `TokenSet` per answer as the real one does (no network: what is
 * measured is the token service's own state, events, metrics and fibers). Like every figure, it
 * has a warm-up round and several rounds; each round's growth is after − before, and the growth
 * over all measured rounds together is checked too (a leak accumulates; a high-water mark does
 * not). Target: growth ≤ 2 MB.
 */
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as v8 from "node:v8"
import type { Figure, FigureResult } from "../harness.js"
import { fullGc, median, progress, round, timed } from "../harness.js"
import { makeFakeAuth } from "../support.js"
import { loop } from "./hotPath.js"

const GETS = 1_000_000
const REFRESHES = 10_000
const WARMUP = 1
const ROUNDS = 5
const MB = 1024 * 1024

const heapUsed = Effect.andThen(fullGc, Effect.sync(() => process.memoryUsage().heapUsed))

const spaces = (): Record<string, number> =>
  Object.fromEntries(v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]))

const measure = (calls: () => number) =>
  Effect.gen(function*() {
    yield* progress(`memory: ${WARMUP} warm-up and ${ROUNDS} rounds of ${GETS} get and ${REFRESHES} refresh`)
    const service = yield* TokenService.TokenService
    // gets in chunks between the refreshes, so that both run against changing state
    const cycle = Effect.gen(function*() {
      const chunk = Math.ceil(GETS / REFRESHES)
      for (let i = 0; i < REFRESHES; i++) {
        Effect.runSync(loop(service.get, chunk))
        yield* service.refresh
      }
    })
    yield* service.get
    const start = yield* heapUsed
    const before: Array<number> = []
    const after: Array<number> = []
    const millis: Array<number> = []
    let warmUpSpaces: Record<string, number> = {}
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      before.push(yield* heapUsed)
      const spacesBefore = spaces()
      const [ms] = yield* timed(cycle)
      millis.push(ms)
      after.push(yield* heapUsed)
      if (i === 0) {
        const spacesAfter = spaces()
        warmUpSpaces = Object.fromEntries(
          Object.keys(spacesAfter).map((
            name
          ) => [name, round((spacesAfter[name]! - (spacesBefore[name] ?? 0)) / MB, 3)])
            .filter(([, delta]) => delta !== 0)
        )
      }
      yield* progress(
        `memory: ${i < WARMUP ? "warm-up" : "round"} ${i < WARMUP ? i + 1 : i - WARMUP + 1} before ${
          round(before[i]! / MB, 4)
        } MB after ${round(after[i]! / MB, 4)} MB, ${round(ms, 3)} ms`
      )
    }
    const growth = after.map((a, i) => (a - before[i]!) / MB)
    const measured = growth.slice(WARMUP)
    const medianGrowth = median(measured)
    const overAllRounds = (after[after.length - 1]! - before[WARMUP]!) / MB
    const result: FigureResult = {
      name: "memory",
      ours: round(median(after.slice(WARMUP)) / MB),
      baseline: round(median(before.slice(WARMUP)) / MB),
      unit: "MB heap",
      ratioDefinition: "heap after / heap before one round of 1 000 000 get and 10 000 refresh (full GC each time)",
      ratio: round(median(after.slice(WARMUP).map((a, i) => a / before[WARMUP + i]!)), 3),
      target: "growth ≤ 2 MB",
      measured: `growth ${round(medianGrowth, 2)} MB per round, ${round(overAllRounds, 2)} MB over ${ROUNDS}`,
      pass: medianGrowth <= 2 && overAllRounds <= 2,
      rounds: ROUNDS,
      details: {
        growthPerRoundMB: measured.map((g) => round(g, 3)),
        growthOverAllRoundsMB: round(overAllRounds, 3),
        warmUpRoundGrowthMB: growth.slice(0, WARMUP).map((g) => round(g, 3)),
        warmUpRoundGrowthBySpaceMB: warmUpSpaces,
        growthSinceServiceStartMB: round((after[after.length - 1]! - start) / MB, 3),
        roundMillis: millis.map((m) => round(m, 3)),
        microsPerRefreshCycle: round(median(millis.slice(WARMUP)) * 1000 / REFRESHES, 3),
        tokensIssued: calls(),
        auth: "in-memory IocmAuth (no network), building a TokenSet per answer the way IocmAuth does"
      }
    }
    return result
  })

export const figure: Figure = {
  id: "memory",
  run: Effect.suspend(() => {
    const fake = makeFakeAuth()
    return measure(fake.calls).pipe(
      Effect.provide(TokenService.layer().pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(fake.layer)))
    )
  })
}

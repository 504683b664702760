/**
 * Hot path: `TokenService.get` on a fresh token against a bare `Ref.get`, both in the same
 * runtime, the same loop (a JS loop of `yield*` inside one `Effect.gen`, run with
 * `Effect.runSync`), so the measurement isolates the cost of one call. ratio = ours / baseline
 * ops/s; target ≥ 0.5.
 */
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type { Figure, FigureResult } from "../harness.js"
import { compare, opsPerSecond, progress, round, samples } from "../harness.js"
import { type FakeAuth, makeFakeAuth } from "../support.js"

const K = 1_000_000

/** `n` sequential runs of `self`, as a JS loop of `yield*` inside one `Effect.gen`. */
export const loop = <A, E, R>(self: Effect.Effect<A, E, R>, n: number): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) {
      yield* self
    }
  })

/** Ops/s of `n` sequential runs of `self`, measured inside one `Effect.runSync`. */
export const syncOps = <A, E>(self: Effect.Effect<A, E>, n: number): Effect.Effect<number> =>
  Effect.sync(() => Effect.runSync(opsPerSecond(n, loop(self, n))))

export const figure: Figure = {
  id: "hot-path",
  run: Effect.suspend(() => {
    const fake = makeFakeAuth()
    return measure(fake).pipe(
      Effect.provide(TokenService.layer().pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(fake.layer)))
    )
  })
}

const measure = (fake: FakeAuth) =>
  Effect.gen(function*() {
    yield* progress("hot path: TokenService.get on a fresh token vs Ref.get")
    const service = yield* TokenService.TokenService
    const first = yield* service.get
    const ref = yield* Ref.make(first)
    const comparison = yield* compare({
      label: "hot path",
      warmup: 3,
      rounds: 15,
      ours: syncOps(service.get, K),
      baseline: syncOps(Ref.get(ref), K),
      ratio: (ours, baseline) => ours / baseline
    })
    // The `TokenService.get` accessor, which looks the service up in the context on every call.
    const accessor = yield* compare({
      label: "hot path (accessor)",
      warmup: 1,
      rounds: 5,
      ours: Effect.sync(() =>
        Effect.runSync(
          opsPerSecond(K, loop(TokenService.get, K)).pipe(Effect.provideService(TokenService.TokenService, service))
        )
      ),
      baseline: syncOps(Ref.get(ref), K),
      ratio: (ours, baseline) => ours / baseline
    })
    // The same through `Effect.repeat({ times })` (v3's `repeatN`), as a cross-check of the loop construct.
    const repeated = <A, E>(self: Effect.Effect<A, E>) =>
      Effect.sync(() => Effect.runSync(opsPerSecond(K / 4, Effect.repeat(self, { times: K / 4 - 1 }))))
    const repeat = yield* compare({
      label: "hot path (repeat)",
      warmup: 1,
      rounds: 5,
      ours: repeated(service.get),
      baseline: repeated(Ref.get(ref)),
      ratio: (ours, baseline) => ours / baseline
    })
    const ratio = comparison.ratioMedian
    const result: FigureResult = {
      name: "hot path",
      ours: round(comparison.oursMedian),
      baseline: round(comparison.baselineMedian),
      unit: "ops/s",
      ratioDefinition: "ours / baseline ops/s (TokenService.get on a fresh token vs Ref.get)",
      ratio: round(ratio, 3),
      target: "ratio ≥ 0.5",
      pass: ratio >= 0.5,
      rounds: comparison.ours.length,
      details: {
        loop: `JS loop of ${K} yield* inside one Effect.gen, run with Effect.runSync`,
        nanosPerCall: {
          ours: round(1e9 / comparison.oursMedian, 3),
          baseline: round(1e9 / comparison.baselineMedian, 3)
        },
        accessor: {
          what: "yield* TokenService.get (the accessor: a context lookup per call) instead of service.get",
          ours: round(accessor.oursMedian),
          baseline: round(accessor.baselineMedian),
          ratio: round(accessor.ratioMedian, 3)
        },
        repeat: {
          what: `Effect.repeat(self, { times: ${K / 4 - 1} }) (v3: Effect.repeatN)`,
          ours: round(repeat.oursMedian),
          baseline: round(repeat.baselineMedian),
          ratio: round(repeat.ratioMedian, 3)
        },
        tokenRequests: fake.calls(),
        ...samples(comparison)
      }
    }
    return result
  })

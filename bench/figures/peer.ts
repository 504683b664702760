/**
 * Hand-written peer: `TokenService.get` on a fresh token against the usual hand-written Promise
 * cache (`if (expired) await refresh()`), each called the way its users call it: ours with
 * `yield*` inside `Effect.gen`, the peer with `await` inside an `async` function. ratio = ours /
 * peer ops/s; reported, no target.
 */
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Figure, FigureResult } from "../harness.js"
import { compare, now, opsPerSecond, progress, round, samples } from "../harness.js"
import { makeFakeAuth } from "../support.js"
import { loop, syncOps } from "./hotPath.js"

const K = 1_000_000

/**
 * The cache users write by hand: a token, its expiry, and a refresh awaited when expired. It even
 * has a single flight, which many do not.
 */
export class PromiseTokenCache {
  private token: string | undefined
  private expiresAt = 0
  private inflight: Promise<string> | undefined

  constructor(
    private readonly fetchToken: () => Promise<{ readonly accessToken: string; readonly expiresIn: number }>,
    private readonly skewMillis = 60_000
  ) {}

  async get(): Promise<string> {
    if (this.token === undefined || Date.now() >= this.expiresAt - this.skewMillis) {
      await this.refresh()
    }
    return this.token!
  }

  private refresh(): Promise<string> {
    if (this.inflight === undefined) {
      const sentAt = Date.now()
      this.inflight = this.fetchToken().then((answer) => {
        this.token = answer.accessToken
        this.expiresAt = sentAt + answer.expiresIn * 1000
        return answer.accessToken
      }).finally(() => {
        this.inflight = undefined
      })
    }
    return this.inflight
  }
}

const peerOps = async (cache: PromiseTokenCache, n: number): Promise<number> => {
  const start = now()
  for (let i = 0; i < n; i++) {
    await cache.get()
  }
  return n / ((now() - start) / 1000)
}

const measure = Effect.gen(function*() {
  yield* progress("hand-written peer: TokenService.get vs a Promise cache")
  const service = yield* TokenService.TokenService
  yield* service.get
  let issued = 0
  const cache = new PromiseTokenCache(() => Promise.resolve({ accessToken: `at-${++issued}`, expiresIn: 3600 }))
  yield* Effect.promise(() => cache.get())
  const comparison = yield* compare({
    label: "peer",
    warmup: 3,
    rounds: 11,
    ours: syncOps(service.get, K),
    baseline: Effect.promise(() => peerOps(cache, K)),
    ratio: (ours, baseline) => ours / baseline
  })
  // The peer called from an Effect program, as an Effect user would have to call it.
  const fromEffect = yield* compare({
    label: "peer from Effect",
    warmup: 1,
    rounds: 5,
    ours: opsPerSecond(K / 10, loop(service.get, K / 10)),
    baseline: opsPerSecond(
      K / 10,
      Effect.gen(function*() {
        for (let i = 0; i < K / 10; i++) {
          yield* Effect.promise(() => cache.get())
        }
      })
    ),
    ratio: (ours, baseline) => ours / baseline
  })
  const result: FigureResult = {
    name: "hand-written peer",
    ours: round(comparison.oursMedian),
    baseline: round(comparison.baselineMedian),
    unit: "ops/s",
    ratioDefinition: "ours / peer ops/s (yield* TokenService.get vs await cache.get() of a Promise cache)",
    ratio: round(comparison.ratioMedian, 3),
    target: "report",
    pass: null,
    rounds: comparison.ours.length,
    details: {
      nanosPerCall: { ours: round(1e9 / comparison.oursMedian, 3), peer: round(1e9 / comparison.baselineMedian, 3) },
      peerCalledFromEffect: {
        what: "yield* Effect.promise(() => cache.get()) in an Effect.gen loop, vs ours in the same kind of loop",
        ours: round(fromEffect.oursMedian),
        peer: round(fromEffect.baselineMedian),
        ratio: round(fromEffect.ratioMedian, 3)
      },
      peerRefreshes: issued,
      ...samples(comparison)
    }
  }
  return result
})

export const figure: Figure = {
  id: "peer",
  run: Effect.suspend(() => {
    const fake = makeFakeAuth()
    return measure.pipe(
      Effect.provide(TokenService.layer().pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(fake.layer)))
    )
  })
}

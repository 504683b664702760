/**
 * Fleet hot path: `TokenService.get` on a fresh token when the service's store is `@iocm/redis`
 * (a real `redis-server` this figure starts and stops) against the same on the in-memory store,
 * in the same loop as the hot-path figure. `get` must not touch the store: ratio = ours / baseline
 * ops/s; target ≥ 0.95. Reported as skipped when `redis-server` is not installed.
 */
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as RedisStore from "@iocm/redis/TokenStore"
import * as RedisServer from "@iocm/testing/Redis"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import type { Figure, FigureResult } from "../harness.js"
import { compare, progress, round, samples, skipped } from "../harness.js"
import { makeFakeAuth, quiet } from "../support.js"
import { syncOps } from "./hotPath.js"

const K = 1_000_000

const row = {
  name: "fleet hot path",
  unit: "ops/s",
  ratioDefinition: "ours / baseline ops/s (get on the Redis store vs on the memory store)",
  target: "ratio ≥ 0.95"
}

export const figure: Figure = {
  id: "fleet-hot-path",
  run: Effect.suspend(() =>
    RedisServer.serverAvailable()
      ? Effect.scoped(measure)
      : Effect.succeed(skipped(row, "redis-server is not installed"))
  )
}

/** A service over `store`, built in the current scope. */
const serviceOn = (store: Layer.Layer<TokenStore.TokenStore, unknown>) =>
  Effect.map(
    Layer.build(
      TokenService.layer().pipe(Layer.provide(store), Layer.provide(makeFakeAuth().layer), Layer.provide(quiet))
    ),
    Context.get(TokenService.TokenService)
  )

const measure = Effect.gen(function*() {
  yield* progress("fleet hot path: TokenService.get on the Redis store vs on the memory store")
  const redis = yield* RedisServer.server
  const platform = PlatformConfig.layer({ baseUrl: "https://127.0.0.1:8743", appId: "bench", secret: "bench-secret" })
  const onRedis = yield* serviceOn(
    RedisStore.layerRedis({ url: redis.url, key: Redacted.make(randomBytes(32).toString("base64")) }).pipe(
      Layer.provide(platform)
    )
  )
  const inMemory = yield* serviceOn(TokenStore.layerMemory)
  yield* onRedis.get
  yield* inMemory.get
  const comparison = yield* compare({
    label: "fleet hot path",
    warmup: 3,
    rounds: 11,
    ours: syncOps(onRedis.get, K),
    baseline: syncOps(inMemory.get, K),
    ratio: (ours, baseline) => ours / baseline
  })
  const ratio = comparison.ratioMedian
  const result: FigureResult = {
    ...row,
    ours: round(comparison.oursMedian),
    baseline: round(comparison.baselineMedian),
    ratio: round(ratio, 3),
    pass: ratio >= 0.95,
    rounds: comparison.ours.length,
    details: { loop: `JS loop of ${K} yield* inside one Effect.gen, run with Effect.runSync`, ...samples(comparison) }
  }
  return result
})

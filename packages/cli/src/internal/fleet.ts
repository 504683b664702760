/**
 * The fleet's token, read from its store: `@iocm/redis`'s `TokenStore` over its own connection,
 * configured by the `IOCM_REDIS_URL`, `IOCM_STORE_KEY`, … variables the fleet's processes read. It
 * only reads: no lease is taken and nothing is written, so the fleet is left as it was.
 *
 * @internal
 */
import type * as CacheStore from "@iocm/cache/TokenStore"
import { PlatformConfig } from "@iocm/core/PlatformConfig"
import * as RedisStore from "@iocm/redis/TokenStore"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redis from "effect/persistence/Redis"
import { NoFleetToken } from "./errors.js"
import type { Obtained } from "./tokens.js"

/**
 * Whether a fleet's store is configured: `IOCM_REDIS_URL` is set.
 *
 * @internal
 */
export const configured: Effect.Effect<boolean, Config.ConfigError> = Config.option(Config.Redacted("IOCM_REDIS_URL"))
  .pipe(Effect.map(Option.isSome))

/**
 * The token the fleet's store holds for the app of `PlatformConfig`, if it is still valid.
 *
 * @internal
 */
export const token: Effect.Effect<
  Obtained,
  NoFleetToken | CacheStore.TokenStoreError | RedisStore.StoreKeyError | Redis.RedisError | Config.ConfigError,
  PlatformConfig
> = Effect.gen(function*() {
  const options = yield* Config.unwrap(RedisStore.envConfig)
  const { appId } = yield* PlatformConfig
  const stored = yield* Effect.flatMap(RedisStore.make(options), (store) => store.get).pipe(
    Effect.provide(RedisStore.layerConnection(options.url))
  )
  const now = yield* Clock.currentTimeMillis
  if (Option.isNone(stored)) return yield* new NoFleetToken({ appId })
  const { generation, tokens } = stored.value
  if (!tokens.isValidAt(now)) return yield* new NoFleetToken({ appId, expiredAt: tokens.expiresAt })
  return { tokens, generation, source: "store" }
})

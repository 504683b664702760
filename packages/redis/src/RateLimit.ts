/**
 * Flow control for a fleet: `@iocm/cache`'s `FlowControl` budget counted in Redis, so that every
 * process of a Network Application shares the platform's one budget per appId.
 *
 * The count is `effect/persistence/RateLimiter`'s own Redis store (`layerStoreRedis`: one atomic
 * script per call, on the server's clock) under `<keyPrefix><appId>`.
 *
 * @since 0.2.0
 */
import * as FlowControl from "@iocm/cache/FlowControl"
import type { PlatformConfig } from "@iocm/core/PlatformConfig"
import * as Layer from "effect/Layer"
import * as RateLimiter from "effect/persistence/RateLimiter"
import type * as Redis from "effect/persistence/Redis"
import type * as Redacted from "effect/Redacted"
import { layerConnection } from "./TokenStore.js"

/**
 * The budget (see `FlowControl.Options`) and where it is counted.
 *
 * @since 0.2.0
 * @category Models
 */
export interface Options extends FlowControl.Options {
  /** Prefix of the Redis name of each app's count; default {@link defaultKeyPrefix}. */
  readonly keyPrefix?: string | undefined
}

/**
 * The default prefix of each app's count: `iocm:flow:<appId>`.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultKeyPrefix = "iocm:flow:"

/**
 * The budget of the app of `PlatformConfig`, counted over the `Redis` service in context (share
 * the `TokenStore`'s connection).
 *
 * @since 0.2.0
 * @category Layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<FlowControl.FlowControl, FlowControl.InvalidFlowControl, Redis.Redis | PlatformConfig> =>
  FlowControl.layer(options).pipe(
    Layer.provide(RateLimiter.layer),
    Layer.provide(RateLimiter.layerStoreRedis({ prefix: options.keyPrefix ?? defaultKeyPrefix }))
  )

/**
 * The budget of the app of `PlatformConfig`, counted on the Redis at `options.url` (a connection
 * of its own, as `TokenStore.layerConnection` opens it).
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerRedis = (
  options: Options & { readonly url: Redacted.Redacted<string> | string }
): Layer.Layer<FlowControl.FlowControl, FlowControl.InvalidFlowControl | Redis.RedisError, PlatformConfig> =>
  layer(options).pipe(Layer.provide(layerConnection(options.url)))

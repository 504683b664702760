/**
 * Flow control for a fleet: `@iocm/cache`'s `FlowControl` budget counted in Redis, so that every
 * process of a Network Application shares the platform's one budget per appId.
 *
 * The count is a sliding log of the calls granted, a sorted set under `<keyPrefix><appId>`, kept
 * by one atomic script per call on the server's clock: never more than `limit` calls in any
 * window, whatever the platform's own windows are aligned to.
 *
 * @since 0.2.0
 */
import * as FlowControl from "@iocm/cache/FlowControl"
import * as IocmConfig from "@iocm/core/IocmConfig"
import type { PlatformConfig } from "@iocm/core/PlatformConfig"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import type * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import * as Scripts from "./internal/scripts.js"
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
 * Options of `layerRedis`: the budget's, and the server's URL (credentials in a `Redacted` stay out
 * of logs).
 *
 * @since 0.2.0
 * @category Models
 */
export interface RedisOptions extends Options {
  readonly url: Redacted.Redacted<string> | string
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
  FlowControl.layer(options).pipe(Layer.provide(layerStore(options.keyPrefix ?? defaultKeyPrefix)))

/**
 * `@iocm/cache`'s `FlowControl.Store` over the `Redis` service in context, each budget under
 * `<prefix><key>`; a Redis that fails is a `FlowControlError` (the call is not sent).
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerStore = (
  prefix: string = defaultKeyPrefix
): Layer.Layer<FlowControl.Store, never, Redis.Redis> =>
  Layer.effect(
    FlowControl.Store,
    Effect.map(Redis.Redis, (redis) =>
      FlowControl.Store.of({
        take: (key, limit, windowMillis) =>
          Effect.suspend(() =>
            // A member of its own per call (drawn when the call runs), or the set would count one.
            redis.eval(Scripts.takeSlot)(`${prefix}${key}`, limit, windowMillis, randomBytes(12).toString("hex"))
          ).pipe(
            Effect.mapError((error) =>
              new FlowControl.FlowControlError({
                description: `Redis failed: ${
                  error.cause instanceof Error ? error.cause.message : String(error.cause)
                }`,
                cause: error
              })
            )
          )
      }))
  )

/**
 * The budget of the app of `PlatformConfig`, counted on the Redis at `options.url` (a connection
 * of its own, as `TokenStore.layerConnection` opens it).
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerRedis = (
  options: RedisOptions
): Layer.Layer<FlowControl.FlowControl, FlowControl.InvalidFlowControl | Redis.RedisError, PlatformConfig> =>
  layer(options).pipe(Layer.provide(layerConnection(options.url)))

/**
 * The `IOCM_*` variables of `layerRedisConfig`: `IOCM_REDIS_URL` (redacted) must be set; the budget's
 * `IOCM_FLOW_LIMIT`, `IOCM_FLOW_WINDOW`, `IOCM_FLOW_MARGIN` (as `FlowControl.envConfig` reads them)
 * and `IOCM_FLOW_PREFIX` are optional.
 *
 * @since 0.2.0
 * @category Config
 */
export const envConfig: { readonly [K in keyof RedisOptions]-?: Config.Config<RedisOptions[K]> } = {
  ...FlowControl.envConfig,
  keyPrefix: Config.String("IOCM_FLOW_PREFIX").pipe(Config.withDefault(undefined)),
  url: IocmConfig.requiredRedacted("IOCM_REDIS_URL")
}

/**
 * `layerRedis` with its options read through `config` (each a `Config`, or one `Config` of them
 * all), by default the `IOCM_*` variables of `envConfig`.
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerRedisConfig = (
  config: Config.Wrap<RedisOptions> = envConfig
): Layer.Layer<
  FlowControl.FlowControl,
  FlowControl.InvalidFlowControl | Redis.RedisError | Config.ConfigError,
  PlatformConfig
> => Layer.unwrap(Effect.map(Config.unwrap(config), layerRedis))

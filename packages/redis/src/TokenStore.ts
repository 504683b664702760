/**
 * Fleet mode: `@iocm/cache`'s `TokenStore` on Redis, so that every process of a Network Application
 * shares one token per appId instead of invalidating each other's.
 *
 * - **A lease per appId** (`withLock`): one owner at a time (`SET … NX PX`), renewed while its
 *   login or refresh runs, released by compare-and-delete; a lease held by another process is
 *   waited for, never bypassed.
 * - **Compare-and-set writes** (`set`, `commit`): the stored generation never goes backwards; a
 *   write of an older or equal generation is refused and reported, and the newer record kept. Each
 *   write publishes its generation (`c:<generation>`) on the app's channel in the same script.
 * - **Encrypted at rest**: the encoded `StoredToken` sealed with AES-256-GCM (a fresh IV per write,
 *   the appId and generation as associated data), a previous key accepted for reading. Without a
 *   key the layer does not build, unless `allowPlaintext: true` says otherwise.
 * - **Started without Redis**: the connection is made in the background when Redis is out of
 *   reach at start (see `layerConnection`); the app starts and runs its own flight meanwhile.
 * - **Fail fast**: every Redis call is bounded (`commandTimeout`) and fails with a
 *   `TokenStoreError`, which `TokenService` reports before carrying on without the store.
 *
 * @since 0.2.0
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import * as CacheStore from "@iocm/cache/TokenStore"
import * as IocmConfig from "@iocm/core/IocmConfig"
import { PlatformConfig } from "@iocm/core/PlatformConfig"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Connection from "./internal/connection.js"
import * as Envelope from "./internal/envelope.js"
import * as RedisStore from "./internal/redisStore.js"

/**
 * The Redis names of one appId's state. They share the hash tag `{<appId>}`, so that each script
 * touches one slot of a Redis Cluster.
 *
 * @since 0.2.0
 * @category Models
 */
export interface Keys {
  /** A hash: `gen` (the generation) and `record` (the sealed `StoredToken`). */
  readonly token: string
  /** The lease: a string holding its owner's id, with an expiry. */
  readonly lease: string
  /** The pub/sub channel: `c:<generation>` on each write, `r` when a lease is released. */
  readonly channel: string
}

/**
 * The names for `appId` under `prefix`: `<prefix>{<appId>}:token`, `…:lease` and `…:events`.
 *
 * @since 0.2.0
 * @category Models
 */
export const keys = (prefix: string, appId: string): Keys => ({
  token: `${prefix}{${appId}}:token`,
  lease: `${prefix}{${appId}}:lease`,
  channel: `${prefix}{${appId}}:events`
})

/**
 * What a compare-and-set write did (`@iocm/cache`'s `TokenStore.CommitResult`).
 *
 * @since 0.2.0
 * @category Models
 */
export type CommitResult = CacheStore.CommitResult

/**
 * The Redis store: a `TokenStore` (its `set` logs a refused write and succeeds, since the newer
 * record is kept) with `commit`, the same write telling whether it was refused.
 *
 * @since 0.2.0
 * @category Models
 */
export interface Service extends CacheStore.Service {
  /** Writes `token` if its generation is above the stored one; publishes the generation when it does. */
  readonly commit: (token: CacheStore.StoredToken) => Effect.Effect<CommitResult, CacheStore.TokenStoreError>
  /** Runs `self` holding the app's lease. */
  readonly withLock: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CacheStore.TokenStoreError, R>
}

/**
 * The store's encryption key is missing or is not a key: the layer does not build. The message
 * names the option, never its value.
 *
 * @since 0.2.0
 * @category Errors
 */
export class StoreKeyError extends Schema.TaggedError<StoreKeyError>("@iocm/redis/StoreKeyError")("StoreKeyError", {
  option: Schema.Literals(["key", "previousKey"]),
  reason: Schema.Literals(["missing", "invalid"])
}) {
  /** @since 0.2.0 */
  override get message(): string {
    return this.reason === "missing"
      ? "The Redis token store has no encryption key: give `key` (IOCM_STORE_KEY), 32 random bytes as base64 " +
        "or hex (`openssl rand -base64 32`), or set `allowPlaintext: true` to store tokens unencrypted."
      : `The Redis token store's \`${this.option}\` is not 32 bytes written as base64 or hex.`
  }
}

/**
 * Options of `make`.
 *
 * @since 0.2.0
 * @category Models
 */
export interface StoreOptions {
  /** The encryption key: 32 bytes as base64 or hex. Required unless `allowPlaintext` is true. */
  readonly key?: Redacted.Redacted<string> | undefined
  /** The key before the last rotation: records it sealed are still read; writes use `key`. */
  readonly previousKey?: Redacted.Redacted<string> | undefined
  /** Without a `key`, store the tokens in Redis unencrypted. Default: false (no key: no store). */
  readonly allowPlaintext?: boolean | undefined
  /** Prefix of every Redis name. Default: `iocm:`. */
  readonly keyPrefix?: string | undefined
  /** How long a lease lives without renewal (it is renewed every third of it). Default: 10 seconds. */
  readonly leaseTtl?: Duration.Input | undefined
  /** The longest `withLock` waits for a lease another process holds. Default: 40 seconds. */
  readonly lockWait?: Duration.Input | undefined
  /** The longest one Redis call may take. Default: 1 second. */
  readonly commandTimeout?: Duration.Input | undefined
}

/**
 * Options of `layerRedis`: the store's, and the server's URL (`redis://` or `rediss://`, with
 * credentials if any: a `Redacted` keeps them out of logs).
 *
 * @since 0.2.0
 * @category Models
 */
export interface Options extends StoreOptions {
  readonly url: Redacted.Redacted<string> | string
}

/**
 * The default prefix of every Redis name.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultKeyPrefix = "iocm:"

/**
 * The default lease time to live: a holder that died holds up the fleet this long at most.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultLeaseTtl: Duration.Duration = Duration.seconds(10)

/**
 * The default wait for a held lease: one lease time to live plus the default request timeout, the
 * longest a live holder's login or refresh takes.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultLockWait: Duration.Duration = Duration.seconds(40)

/**
 * The default bound on one Redis call.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultCommandTimeout: Duration.Duration = Duration.seconds(1)

/** The master key of `option`, or why there is none. */
const masterKey = (option: StoreKeyError["option"], key: Redacted.Redacted<string>) =>
  Effect.fromNullishOr(Envelope.parseKey(Redacted.value(key))).pipe(
    Effect.mapError(() => new StoreKeyError({ option, reason: "invalid" }))
  )

/** How records of `appId` are sealed and opened under `options`. */
const codecFor = (options: StoreOptions, appId: string): Effect.Effect<Envelope.Codec, StoreKeyError> =>
  Effect.gen(function*() {
    if (options.key === undefined) {
      return options.allowPlaintext === true
        ? { _tag: "Plaintext" } as const
        : yield* Effect.fail(new StoreKeyError({ option: "key", reason: "missing" }))
    }
    const current = Envelope.deriveKey(yield* masterKey("key", options.key), appId)
    const previous = options.previousKey === undefined
      ? []
      : [Envelope.deriveKey(yield* masterKey("previousKey", options.previousKey), appId)]
    return { _tag: "Sealed", current, previous } as const
  })

/**
 * The store of the app of `PlatformConfig`, over the `Redis` service in context (share a
 * connection, or bring your own client). Give that client `disableOfflineQueue: true`, as
 * `layerRedis` does: otherwise a call made while Redis is down waits for the `commandTimeout`.
 *
 * @since 0.2.0
 * @category Constructors
 */
export const make = (options: StoreOptions = {}): Effect.Effect<Service, StoreKeyError, Redis.Redis | PlatformConfig> =>
  Effect.gen(function*() {
    const { appId } = yield* PlatformConfig
    return RedisStore.make({
      redis: yield* Redis.Redis,
      appId,
      keys: keys(options.keyPrefix ?? defaultKeyPrefix, appId),
      codec: yield* codecFor(options, appId),
      leaseTtl: Duration.fromInputUnsafe(options.leaseTtl ?? defaultLeaseTtl),
      lockWait: Duration.fromInputUnsafe(options.lockWait ?? defaultLockWait),
      commandTimeout: Duration.fromInputUnsafe(options.commandTimeout ?? defaultCommandTimeout)
    })
  })

/**
 * How long building a connection waits for Redis to answer before it carries on connecting in the
 * background.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultConnectWait: Duration.Duration = Duration.seconds(2)

/**
 * The connection `layerRedis` opens: node-redis on `url`, failing commands at once while the server
 * is down (no offline queue), pinging every 5 seconds to notice a dead connection, and trying
 * again every quarter second at most when it is lost (a Redis back from a restart is found at once,
 * before the fleet's tokens need it). A server out of reach does not fail it: it waits up to
 * `connectWait` (default {@link defaultConnectWait}) for Redis, then connects in the background —
 * until it does, every command fails at once with a `RedisError` (the token service runs its own
 * flight meanwhile) and a subscription waits for it. Each failure to connect is a warning, told
 * once a minute at most (a wrong password, a TLS or DNS failure show in the log); node-redis's own
 * line per retry is left out. Only a `url` that is not a `redis://` or `rediss://` URL fails the layer.
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerConnection = (
  url: Redacted.Redacted<string> | string,
  options: { readonly connectWait?: Duration.Input | undefined } = {}
): Layer.Layer<Redis.Redis, Redis.RedisError> =>
  Layer.effect(
    Redis.Redis,
    Effect.flatMap(redisUrl(url), (checked) =>
      Connection.make(
        (reconnectStrategy) =>
          NodeRedis.layer({
            url: checked,
            disableOfflineQueue: true,
            pingInterval: 5_000,
            socket: { reconnectStrategy }
          }),
        Duration.fromInputUnsafe(options.connectWait ?? defaultConnectWait)
      ))
  )

/** `url` in clear, when it is a `redis://` or `rediss://` URL; else a `RedisError` that names the problem, never the URL. */
const redisUrl = (url: Redacted.Redacted<string> | string): Effect.Effect<string, Redis.RedisError> => {
  const value = Redacted.isRedacted(url) ? Redacted.value(url) : url
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined
  return protocol === "redis:" || protocol === "rediss:"
    ? Effect.succeed(value)
    : Effect.fail(
      new Redis.RedisError({ cause: new Error("The Redis URL is not a redis:// or rediss:// URL (IOCM_REDIS_URL?)") })
    )
}

/**
 * `@iocm/cache`'s `TokenStore` on the Redis at `options.url`, for the app of `PlatformConfig`.
 * Fails to build with a `StoreKeyError` without a usable key (see `StoreOptions.allowPlaintext`),
 * or a `RedisError` for a `url` that is not a Redis URL; a server out of reach does not stop it
 * (see `layerConnection`).
 *
 * @example
 * ```ts
 * import { TokenService } from "@iocm/cache"
 * import { TokenStore } from "@iocm/redis"
 * import { Layer, Redacted } from "effect"
 *
 * const TokensLive = TokenService.layer().pipe(
 *   Layer.provide(TokenStore.layerRedis({
 *     url: "redis://127.0.0.1:6379",
 *     key: Redacted.make(process.env.TOKEN_STORE_KEY ?? "")
 *   }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerRedis = (
  options: Options
): Layer.Layer<CacheStore.TokenStore, StoreKeyError | Redis.RedisError, PlatformConfig> =>
  Layer.effect(CacheStore.TokenStore, make(options)).pipe(Layer.provide(layerConnection(options.url)))

const optionalDuration = (name: string) => IocmConfig.duration(name).pipe(Config.withDefault(undefined))

/**
 * The `IOCM_*` variables of `layerRedisConfig`: `IOCM_REDIS_URL` (redacted) must be set;
 * `IOCM_STORE_KEY` and `IOCM_STORE_PREVIOUS_KEY` (redacted), `IOCM_STORE_ALLOW_PLAINTEXT`,
 * `IOCM_REDIS_PREFIX`, `IOCM_STORE_LEASE_TTL`, `IOCM_STORE_LOCK_WAIT` and
 * `IOCM_REDIS_COMMAND_TIMEOUT` (durations as `IocmConfig.duration` reads them) are optional.
 *
 * @since 0.2.0
 * @category Config
 */
export const envConfig: { readonly [K in keyof Options]-?: Config.Config<Options[K]> } = {
  url: IocmConfig.requiredRedacted("IOCM_REDIS_URL"),
  key: Config.Redacted("IOCM_STORE_KEY").pipe(Config.withDefault(undefined)),
  previousKey: Config.Redacted("IOCM_STORE_PREVIOUS_KEY").pipe(Config.withDefault(undefined)),
  allowPlaintext: Config.Boolean("IOCM_STORE_ALLOW_PLAINTEXT").pipe(Config.withDefault(undefined)),
  keyPrefix: Config.String("IOCM_REDIS_PREFIX").pipe(Config.withDefault(undefined)),
  leaseTtl: optionalDuration("IOCM_STORE_LEASE_TTL"),
  lockWait: optionalDuration("IOCM_STORE_LOCK_WAIT"),
  commandTimeout: optionalDuration("IOCM_REDIS_COMMAND_TIMEOUT")
}

/**
 * `layerRedis` with its options read through `config` (each a `Config`, or one `Config` of them
 * all), by default the `IOCM_*` variables of `envConfig`.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@iocm/redis"
 * import { Config } from "effect"
 *
 * // The IOCM_* variables, with the key taken from a variable of your own.
 * const StoreLive = TokenStore.layerRedisConfig({
 *   ...TokenStore.envConfig,
 *   key: Config.Redacted("MY_TOKEN_STORE_KEY")
 * })
 * ```
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerRedisConfig = (
  config: Config.Wrap<Options> = envConfig
): Layer.Layer<CacheStore.TokenStore, StoreKeyError | Redis.RedisError | Config.ConfigError, PlatformConfig> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), layerRedis))

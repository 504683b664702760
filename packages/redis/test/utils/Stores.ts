/**
 * Stores for the tests: each `open` makes its own Redis connection (two stores are two processes'
 * worth of connections), a raw connection to look at what Redis holds, token builders and keys.
 */
import { StoredToken } from "@iocm/cache/TokenStore"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import { TokenStore } from "@iocm/redis"
import { Tokens } from "@iocm/testing"
import type { Scope } from "effect"
import { Context, type Duration, Effect, Layer, Option, Redacted } from "effect"
import * as Redis from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"

export const appId = "app-under-test"

/** The platform settings of `app`: the store takes its appId from them. */
export const platform = (app: string = appId) =>
  PlatformConfig.layer({ baseUrl: "https://127.0.0.1:8743", appId: app, secret: "app-SECRET-never-stored" }).pipe(
    Layer.orDie
  )

/** A fresh 32-byte key, as base64. */
export const newKey = (): Redacted.Redacted<string> => Redacted.make(randomBytes(32).toString("base64"))

/** A raw `Redis` service on its own connection, for the scope. */
export const connect = (
  url: string,
  connectWait?: Duration.Input
): Effect.Effect<Redis.Redis["Service"], Redis.RedisError, Scope.Scope> =>
  Effect.map(Layer.build(TokenStore.layerConnection(url, { connectWait })), Context.get(Redis.Redis))

/** A store of `app` on a connection of its own, for the scope. */
export const open = (
  url: string,
  options: TokenStore.StoreOptions & { readonly connectWait?: Duration.Input },
  app: string = appId
): Effect.Effect<TokenStore.Service, TokenStore.StoreKeyError | Redis.RedisError, Scope.Scope> =>
  Effect.flatMap(
    connect(url, options.connectWait),
    (redis) => TokenStore.make(options).pipe(Effect.provideService(Redis.Redis, redis), Effect.provide(platform(app)))
  )

/** What `store` holds once it holds something (read every 50 ms, for 5 s at most), or undefined. */
export const awaitStored = (store: TokenStore.Service): Effect.Effect<StoredToken | undefined> =>
  Effect.gen(function*() {
    for (let i = 0; i < 100; i++) {
      const stored = yield* Effect.option(store.get)
      if (Option.isSome(stored) && Option.isSome(stored.value)) return stored.value.value
      yield* Effect.sleep("50 millis")
    }
    return undefined
  })

/** Generation `generation`, whose tokens name it: `at-SECRET-<generation>` / `rt-SECRET-<generation>`. */
export const stored = (generation: number): StoredToken =>
  new StoredToken({
    generation,
    tokens: Tokens.tokenSet({
      accessToken: `at-SECRET-${generation}`,
      refreshToken: `rt-SECRET-${generation}`,
      issuedAt: Date.now()
    })
  })

/** The access token of a stored state, in clear. */
export const accessToken = (token: StoredToken): string => Redacted.value(token.tokens.accessToken)

/** Everything Redis holds, as one string: every key and every value of every hash and string. */
export const dump = (redis: Redis.Redis["Service"]): Effect.Effect<string, Redis.RedisError> =>
  Effect.gen(function*() {
    const names = yield* redis.send<Array<string>>("KEYS", "*")
    const values = yield* Effect.forEach(names, (name) =>
      Effect.flatMap(redis.send<string>("TYPE", name), (type) =>
        redis.send<unknown>(type === "hash" ? "HGETALL" : "GET", name)))
    return JSON.stringify([names, values])
  })

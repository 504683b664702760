import { assert, describe, it } from "@effect/vitest"
import { TokenStoreError } from "@iocm/cache/TokenStore"
import * as CacheStore from "@iocm/cache/TokenStore"
import { TokenStore } from "@iocm/redis"
import { Logs, Redis as RedisServer } from "@iocm/testing"
import { Clock, ConfigProvider, Deferred, Effect, Exit, Fiber, Layer, Option, Queue, Redacted, Schedule } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as Stores from "./utils/Stores.js"

const keys = TokenStore.keys(TokenStore.defaultKeyPrefix, Stores.appId)

/** The milliseconds `self` took, with its exit. */
const timed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(self)
    return { exit, millis: (yield* Clock.currentTimeMillis) - start }
  })

const failure = <A>(exit: Exit.Exit<A, unknown>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined

describe.runIf(RedisServer.serverAvailable())("TokenStore.layerRedis", () => {
  it.live("get and set round trip, per appId", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const store = yield* Stores.open(server.url, { key: Stores.newKey() })
      assert.isTrue(Option.isNone(yield* store.get))
      yield* store.set(Stores.stored(1))
      const read = Option.getOrThrow(yield* store.get)
      assert.strictEqual(read.generation, 1)
      assert.strictEqual(Stores.accessToken(read), "at-SECRET-1")
      assert.strictEqual(Redacted.value(Option.getOrThrow(read.tokens.refreshToken)), "rt-SECRET-1")
      const otherApp = yield* Stores.open(server.url, { key: Stores.newKey() }, "another-app")
      assert.isTrue(Option.isNone(yield* otherApp.get))
    }))

  it.live("compare-and-set: the stored generation never goes backwards", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      const first = yield* Stores.open(server.url, { key })
      const second = yield* Stores.open(server.url, { key })
      assert.deepStrictEqual(yield* first.commit(Stores.stored(2)), { _tag: "Committed", generation: 2 })
      assert.deepStrictEqual(yield* second.commit(Stores.stored(1)), { _tag: "Refused", generation: 1, stored: 2 })
      assert.deepStrictEqual(yield* second.commit(Stores.stored(2)), { _tag: "Refused", generation: 2, stored: 2 })
      // `set` reports a refusal and succeeds: the newer record is kept.
      const logs = Logs.capture()
      yield* second.set(Stores.stored(1)).pipe(Effect.provide(logs.layer))
      assert.match(logs.messages().join("\n"), /generation 1 was refused: the store holds generation 2/)
      assert.strictEqual(Option.getOrThrow(yield* first.get).generation, 2)
      // Writers racing with generations in any order end on the highest, and only rises are written.
      const generations = [9, 4, 12, 3, 11, 5, 10, 6, 8, 7]
      const results = yield* Effect.forEach(
        generations,
        (generation, i) => (i % 2 === 0 ? first : second).commit(Stores.stored(generation)),
        { concurrency: "unbounded" }
      )
      const written = results.filter((result) => result._tag === "Committed").map((result) => result.generation)
      assert.deepStrictEqual(written, [...written].sort((a, b) => a - b))
      assert.strictEqual(Option.getOrThrow(yield* second.get).generation, 12)
    }))

  it.live("each write publishes its generation on the app's channel; a refused one publishes nothing", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const redis = yield* Stores.connect(server.url)
      const messages = yield* redis.subscribe(keys.channel)
      const store = yield* Stores.open(server.url, { key: Stores.newKey() })
      yield* store.set(Stores.stored(1))
      yield* store.set(Stores.stored(1))
      yield* store.set(Stores.stored(2))
      yield* store.withLock(Effect.void)
      const received = yield* Effect.forEach([1, 2, 3], () => Queue.take(messages))
      assert.deepStrictEqual(received.map((m) => m.message), ["c:1", "c:2", "r"])
    }).pipe(Effect.provide(Logs.silent)))

  it.live("the lease is exclusive across two stores and released on success, failure and interruption", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const first = yield* Stores.open(server.url, { key: Stores.newKey() })
      const second = yield* Stores.open(server.url, { key: Stores.newKey() })
      const redis = yield* Stores.connect(server.url)
      let inside = 0
      let most = 0
      const critical = Effect.acquireUseRelease(
        Effect.sync(() => most = Math.max(most, ++inside)),
        () => Effect.sleep("50 millis"),
        () => Effect.sync(() => inside--)
      )
      yield* Effect.forEach([first, second, first, second, first, second], (store) => store.withLock(critical), {
        concurrency: "unbounded"
      })
      assert.strictEqual(most, 1)
      const leaseExists = redis.send<number>("EXISTS", keys.lease)
      assert.strictEqual(yield* leaseExists, 0)

      assert.isTrue(Exit.isFailure(yield* Effect.exit(first.withLock(Effect.fail("boom")))))
      assert.strictEqual(yield* leaseExists, 0)

      const entered = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        first.withLock(Effect.andThen(Deferred.succeed(entered, undefined), Effect.never))
      )
      yield* Deferred.await(entered)
      assert.strictEqual(yield* leaseExists, 1)
      yield* Fiber.interrupt(holder)
      assert.strictEqual(yield* leaseExists, 0)
      const { millis } = yield* timed(second.withLock(Effect.void))
      assert.isBelow(millis, 100)
    }).pipe(Effect.provide(Logs.silent)))

  it.live("the lease is renewed while a locked effect runs past its time to live", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const options = { key: Stores.newKey(), leaseTtl: "300 millis", lockWait: "5 seconds" } as const
      const first = yield* Stores.open(server.url, options)
      const second = yield* Stores.open(server.url, options)
      const entered = yield* Deferred.make<void>()
      const start = yield* Clock.currentTimeMillis
      const holder = yield* Effect.forkChild(
        first.withLock(Effect.andThen(Deferred.succeed(entered, undefined), Effect.sleep("1200 millis")))
      )
      yield* Deferred.await(entered)
      const waiter = yield* Effect.forkChild(second.withLock(Clock.currentTimeMillis))
      const enteredAt = yield* Fiber.join(waiter)
      yield* Fiber.join(holder)
      assert.isAtLeast(enteredAt - start, 1200)
    }))

  it.live("a lease whose holder died expires and is taken over; a held lease is waited for at most lockWait", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const redis = yield* Stores.connect(server.url)
      const store = yield* Stores.open(server.url, { key: Stores.newKey(), lockWait: "400 millis" })
      // What a crashed holder leaves behind: its lease, never renewed again.
      yield* redis.send("SET", keys.lease, "crashed-holder", "PX", "250")
      const takeover = yield* timed(store.withLock(Effect.succeed("mine")))
      assert.deepStrictEqual(takeover.exit, Exit.succeed("mine"))
      assert.isAtLeast(takeover.millis, 200)
      yield* redis.send("SET", keys.lease, "live-holder", "PX", "10000")
      const refused = yield* timed(store.withLock(Effect.succeed("mine")))
      const error = failure(refused.exit)
      assert.instanceOf(error, TokenStoreError)
      assert.strictEqual((error as TokenStoreError).operation, "lock")
      assert.isBelow(refused.millis, 1000)
      assert.strictEqual(yield* redis.send<string>("GET", keys.lease), "live-holder")
    }))

  it.live("nothing in Redis in clear: no access token, refresh token, secret or key", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      const store = yield* Stores.open(server.url, { key })
      yield* store.set(Stores.stored(7))
      yield* store.withLock(Effect.void)
      const dump = yield* Stores.dump(yield* Stores.connect(server.url))
      for (const secret of ["at-SECRET", "rt-SECRET", "app-SECRET", "SECRET", Redacted.value(key)]) {
        assert.notInclude(dump, secret)
      }
      assert.match(dump, /"v1\.[0-9a-f]{8}\./)
    }))

  it.live("key rotation: the previous key reads, new writes use the new key; a wrong key is a TokenStoreError", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const redis = yield* Stores.connect(server.url)
      const record = redis.send<string>("HGET", keys.token, "record")
      const oldKey = Stores.newKey()
      const before = yield* Stores.open(server.url, { key: oldKey })
      yield* before.set(Stores.stored(1))
      const oldId = (yield* record).split(".")[1]
      const after = yield* Stores.open(server.url, { key: Stores.newKey(), previousKey: oldKey })
      assert.strictEqual(Stores.accessToken(Option.getOrThrow(yield* after.get)), "at-SECRET-1")
      yield* after.set(Stores.stored(2))
      assert.notStrictEqual((yield* record).split(".")[1], oldId)
      const stale = yield* Effect.exit(before.get)
      assert.instanceOf(failure(stale), TokenStoreError)
      const wrong = yield* Stores.open(server.url, { key: Stores.newKey() })
      const error = failure(yield* Effect.exit(wrong.get)) as TokenStoreError
      assert.strictEqual(error.operation, "get")
      assert.match(error.message, /key this store does not have/)
    }))

  it.live("a record altered, or moved to another generation or appId, is a TokenStoreError", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const redis = yield* Stores.connect(server.url)
      const key = Stores.newKey()
      const store = yield* Stores.open(server.url, { key })
      yield* store.set(Stores.stored(3))
      const record = yield* redis.send<string>("HGET", keys.token, "record")
      const readFails = (expected: RegExp) =>
        Effect.map(Effect.exit(store.get), (exit) => {
          const error = failure(exit)
          assert.instanceOf(error, TokenStoreError)
          assert.match((error as TokenStoreError).message, expected)
        })
      const last = record.at(-2) === "A" ? "B" : "A"
      yield* redis.send("HSET", keys.token, "record", `${record.slice(0, -2)}${last}${record.at(-1)}`)
      yield* readFails(/does not decrypt/)
      yield* redis.send("HSET", keys.token, "gen", "4", "record", record)
      yield* readFails(/does not decrypt/)
      const other = TokenStore.keys(TokenStore.defaultKeyPrefix, "another-app")
      yield* redis.send("HSET", other.token, "gen", "3", "record", record)
      const otherStore = yield* Stores.open(server.url, { key }, "another-app")
      assert.instanceOf(failure(yield* Effect.exit(otherStore.get)), TokenStoreError)
      yield* redis.send("HSET", keys.token, "gen", "3", "record", "v1.garbage")
      yield* readFails(/key this store does not have|truncated/)
    }))

  it.live("no key: the store does not build, unless plaintext is asked for by name", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const missing = failure(yield* Effect.exit(Stores.open(server.url, {})))
      assert.instanceOf(missing, TokenStore.StoreKeyError)
      assert.strictEqual((missing as TokenStore.StoreKeyError).reason, "missing")
      const invalid = failure(yield* Effect.exit(Stores.open(server.url, { key: Redacted.make("too-short") })))
      assert.deepInclude(invalid, { option: "key", reason: "invalid" })
      assert.notInclude((invalid as Error).message, "too-short")
      const plain = yield* Stores.open(server.url, { allowPlaintext: true })
      yield* plain.set(Stores.stored(1))
      assert.strictEqual(Stores.accessToken(Option.getOrThrow(yield* plain.get)), "at-SECRET-1")
      const sealed = yield* Stores.open(server.url, { key: Stores.newKey() })
      assert.match((failure(yield* Effect.exit(sealed.get)) as Error).message, /not encrypted/)
    }))

  it.live("Redis down: every call fails fast with a TokenStoreError, and works again after a restart", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const store = yield* Stores.open(server.url, { key: Stores.newKey(), commandTimeout: "500 millis" })
      yield* store.set(Stores.stored(1))
      yield* server.kill
      for (const call of [store.get, store.set(Stores.stored(2)), store.withLock(Effect.void)]) {
        const { exit, millis } = yield* timed(call)
        assert.instanceOf(failure(exit), TokenStoreError)
        assert.isBelow(millis, 700)
      }
      yield* server.restart
      // The client reconnects with back-off; the restarted server is empty (no persistence).
      const read = yield* store.get.pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 50 }))
      assert.isTrue(Option.isNone(read))
      yield* store.set(Stores.stored(2))
      assert.strictEqual(Option.getOrThrow(yield* store.get).generation, 2)
      yield* store.withLock(Effect.void)
    }).pipe(Effect.provide(Logs.silent)))

  it.live("a URL that is not a Redis URL fails the layer with a RedisError that does not quote it", () =>
    Effect.gen(function*() {
      for (const url of ["http://user:SECRET@127.0.0.1:6379", "127.0.0.1:6379", ""]) {
        const error = failure(yield* Effect.exit(Stores.connect(url)))
        assert.instanceOf(error, Redis.RedisError, url)
        assert.match(String((error as Redis.RedisError).cause), /not a redis:\/\/ or rediss:\/\/ URL/)
        assert.notInclude(String((error as Redis.RedisError).cause), "SECRET")
      }
    }))

  it.live("layerRedisConfig reads the IOCM_* variables and provides the cache's TokenStore", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const env = (more: Record<string, string>) =>
        ConfigProvider.layer(ConfigProvider.fromEnv({ env: { IOCM_REDIS_URL: server.url, ...more } }))
      const roundTrip = Effect.gen(function*() {
        const store = yield* CacheStore.TokenStore
        yield* store.set(Stores.stored(5))
        return Option.getOrThrow(yield* store.get).generation
      })
      const built = (more: Record<string, string>) =>
        roundTrip.pipe(
          Effect.provide(TokenStore.layerRedisConfig().pipe(Layer.provide([Stores.platform(), env(more)]))),
          Effect.exit
        )
      const key = Redacted.value(Stores.newKey())
      assert.deepStrictEqual(yield* built({ IOCM_STORE_KEY: key, IOCM_REDIS_PREFIX: "fleet:" }), Exit.succeed(5))
      const redis = yield* Stores.connect(server.url)
      assert.strictEqual(yield* redis.send<number>("EXISTS", TokenStore.keys("fleet:", Stores.appId).token), 1)
      assert.instanceOf(failure(yield* built({})), TokenStore.StoreKeyError)
      const badDuration = failure(yield* built({ IOCM_STORE_KEY: key, IOCM_STORE_LEASE_TTL: "soon" }))
      assert.match((badDuration as Error).message, /IOCM_STORE_LEASE_TTL: expected a duration/)
    }))
})

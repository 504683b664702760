import { assert, describe, it } from "@effect/vitest"
import { type RefreshPolicy, TokenService } from "@iocm/cache"
import * as CacheStore from "@iocm/cache/TokenStore"
import { FakeAuth, Logs, Redis as RedisServer } from "@iocm/testing"
import { Effect, Redacted } from "effect"
import * as Stores from "./utils/Stores.js"

/** A `TokenService` over `store` and the shared fake platform, for the scope. */
const service = (fake: FakeAuth.FakeAuth, store: CacheStore.Service, policy?: RefreshPolicy.Options) =>
  TokenService.make(policy).pipe(Effect.provideService(CacheStore.TokenStore, store), Effect.provide(fake.layer))

describe.runIf(RedisServer.serverAvailable())("two TokenServices sharing the Redis store", () => {
  it.live("started together, they obtain one token between them: one login, the other adopts", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      const fake = FakeAuth.make({ latency: "200 millis" })
      const first = yield* service(fake, yield* Stores.open(server.url, { key }))
      const second = yield* service(fake, yield* Stores.open(server.url, { key }))
      const [a, b] = yield* Effect.all([first.get, second.get], { concurrency: "unbounded" })
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.refreshes(), 0)
      assert.strictEqual(fake.maxInFlight(), 1)
      assert.strictEqual(Redacted.value(a.token), Redacted.value(b.token))
      assert.strictEqual(a.generation, b.generation)
    }).pipe(Effect.provide(Logs.silent)))

  it.live("a login slower than storeTimeout: the other waits for the lease and adopts, never logs in beside it", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      // The holder takes 1 s; a store call may take 200 ms. Without the lease's own wait, the other
      // process would give the lock up after 200 ms and log in too, invalidating the first token.
      const fake = FakeAuth.make({ latency: "1 second" })
      const policy = { storeTimeout: "200 millis", coldStartWait: "10 seconds" } as const
      const first = yield* service(fake, yield* Stores.open(server.url, { key }), policy)
      const second = yield* service(fake, yield* Stores.open(server.url, { key }), policy)
      const [a, b] = yield* Effect.all([first.get, second.get], { concurrency: "unbounded" })
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.maxInFlight(), 1)
      assert.strictEqual(Redacted.value(a.token), Redacted.value(b.token))
    }).pipe(Effect.provide(Logs.silent)))

  it.live("one started later adopts the stored token instead of logging in", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      const fake = FakeAuth.make()
      const first = yield* service(fake, yield* Stores.open(server.url, { key }))
      const token = yield* first.get
      const later = yield* service(fake, yield* Stores.open(server.url, { key }))
      assert.strictEqual(Redacted.value((yield* later.get).token), Redacted.value(token.token))
      assert.strictEqual(fake.logins(), 1)
    }).pipe(Effect.provide(Logs.silent)))

  it.live("a follower adopts the leader's refresh as soon as it is committed, with no platform call", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      const fake = FakeAuth.make()
      const leader = yield* service(fake, yield* Stores.open(server.url, { key }))
      const first = yield* leader.get
      const follower = yield* service(fake, yield* Stores.open(server.url, { key }))
      assert.strictEqual((yield* follower.get).generation, first.generation)
      const refreshed = yield* leader.refresh
      // Announced on the app's channel: the follower holds the new token well before any poll.
      const adopted = yield* Effect.gen(function*() {
        for (let i = 0; i < 100; i++) {
          const token = yield* follower.get
          if (token.generation === refreshed.generation) return token
          yield* Effect.sleep("20 millis")
        }
        return yield* follower.get
      })
      assert.strictEqual(adopted.generation, refreshed.generation)
      assert.strictEqual(Redacted.value(adopted.token), Redacted.value(refreshed.token))
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.refreshes(), 1)
    }).pipe(Effect.provide(Logs.silent)))

  it.live("Redis restarted empty: the token is seeded again from memory, and a newcomer adopts it (no second login)", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const key = Stores.newKey()
      const fake = FakeAuth.make()
      const policy = { followInterval: "300 millis" } as const
      const leader = yield* service(fake, yield* Stores.open(server.url, { key }), policy)
      const token = yield* leader.get
      yield* server.kill
      yield* server.restart
      const reader = yield* Stores.open(server.url, { key })
      const seeded = yield* Stores.awaitStored(reader)
      assert.isDefined(seeded)
      assert.strictEqual(seeded!.generation, token.generation)
      const newcomer = yield* service(fake, yield* Stores.open(server.url, { key }), policy)
      assert.strictEqual((yield* newcomer.get).generation, token.generation)
      assert.strictEqual(fake.logins() + fake.refreshes(), 1)
    }).pipe(Effect.provide(Logs.silent)))

  it.live("Redis out of reach at start: the store builds anyway, the service logs in on its own, and seeds Redis once it is up", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      yield* server.kill
      const key = Stores.newKey()
      const fake = FakeAuth.make()
      const started = Date.now()
      const store = yield* Stores.open(server.url, { key, connectWait: "200 millis" })
      assert.isBelow(Date.now() - started, 2_000, "the layer waits connectWait, not for Redis")
      const alone = yield* service(fake, store, { followInterval: "300 millis" })
      const token = yield* alone.get
      assert.strictEqual(fake.logins(), 1)
      yield* server.restart
      const seeded = yield* Stores.awaitStored(yield* Stores.open(server.url, { key }))
      assert.strictEqual(seeded?.generation, token.generation)
      assert.strictEqual(fake.logins() + fake.refreshes(), 1)
    }).pipe(Effect.provide(Logs.silent)))
})

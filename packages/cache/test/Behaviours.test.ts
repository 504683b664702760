/**
 * The behaviours of `TokenService` around failures: static stability, the cold-start wait,
 * back-offs cut short, the one retry decision, a closed service, and a store that does not answer.
 */
import { assert, describe, it } from "@effect/vitest"
import { IocmError } from "@iocm/core"
import * as FakeAuth from "@iocm/testing/FakeAuth"
import * as Logs from "@iocm/testing/Logs"
import * as Tokens from "@iocm/testing/Tokens"
import {
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  Metric,
  Option,
  Queue,
  Redacted,
  Ref,
  Schedule,
  Scope,
  Stream
} from "effect"
import * as TestClock from "effect/testing/TestClock"
import * as TokenMetrics from "../src/TokenMetrics.js"
import * as TokenStore from "../src/TokenStore.js"
import { adjust, build, minutes, seconds, settle, value } from "./utils/Harness.js"

/** A stored state of `generation` (`at-fleet-<generation>` / `rt-fleet-<generation>`) issued at `issuedAt`, for an hour. */
const issued = (generation: number, issuedAt: number) =>
  new TokenStore.StoredToken({
    generation,
    tokens: Tokens.tokenSet({
      accessToken: `at-fleet-${generation}`,
      refreshToken: `rt-fleet-${generation}`,
      issuedAt
    })
  })

/** A stored state of `generation`, issued now (the test clock's time zero). */
const storedAt = (generation: number) => issued(generation, 0)

const unknown4xx = () =>
  new IocmError.UnknownPlatformError({ code: "1234567", httpStatus: 400, description: "Who knows.", retryable: false })

describe("TokenService cold start", () => {
  it.effect("a get with no token waits across failed attempts instead of failing on the first", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n <= 2 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const service = yield* build(fake, { retryBase: "1 second", retryCap: "1 second" })
      const caller = yield* Effect.forkChild(service.get)
      yield* settle
      assert.strictEqual(fake.logins(), 1)
      yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 2)
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-1")
      assert.strictEqual(fake.logins(), 3)
    }))

  it.effect("...for coldStartWait at most, then fails with the latest error", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = () => FakeAuth.fail(FakeAuth.transport())
      const service = yield* build(fake, { retryBase: "1 second", retryCap: "1 second", coldStartWait: "3 seconds" })
      const caller = yield* Effect.forkChild(Effect.flip(service.get))
      yield* adjust("2 seconds")
      assert.isUndefined(caller.pollUnsafe())
      yield* adjust("1 second")
      yield* settle
      const error = yield* Fiber.join(caller)
      assert.strictEqual(error._tag, "TransportError")
      assert.isAtMost(fake.logins(), 4)
    }))

  it.effect("a terminal error is not waited out", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = () => FakeAuth.fail(FakeAuth.invalidCredentials())
      const service = yield* build(fake)
      assert.strictEqual((yield* Effect.flip(service.get))._tag, "InvalidCredentials")
      assert.strictEqual(fake.logins(), 1)
    }))
})

describe("TokenService back-offs", () => {
  it.effect("a caller with no valid token cuts a back-off short once it has lasted shortenBackOffAfter", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n <= 2 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const service = yield* build(fake, { retry: Schedule.spaced("1 minute"), coldStartWait: 0 })
      yield* Effect.flip(service.get)
      yield* adjust("2 seconds")
      yield* Effect.flip(service.get)
      assert.strictEqual(fake.logins(), 1, "no storm: a young back-off holds")
      yield* adjust("4 seconds")
      assert.strictEqual((yield* Effect.flip(service.get))._tag, "TransportError")
      assert.strictEqual(fake.logins(), 2, "the back-off was cut short")
      yield* adjust("1 second")
      yield* Effect.flip(service.get)
      assert.strictEqual(fake.logins(), 2, "the new back-off holds again")
      yield* adjust("5 seconds")
      assert.strictEqual(value(yield* service.get), "at-1")
      assert.strictEqual(fake.logins(), 3)
    }))

  it.effect("a retry schedule that ends stops the attempts as a terminal error does", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = () => FakeAuth.fail(FakeAuth.transport())
      const service = yield* build(fake, { retry: Schedule.spaced("1 second").pipe(Schedule.upTo({ times: 2 })) })
      const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(service.changes, 3)))
      yield* settle
      const caller = yield* Effect.forkChild(Effect.flip(service.get))
      for (let i = 0; i < 3; i++) yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 3)
      // The waiting caller gets the last error as soon as the attempts stop.
      assert.strictEqual((yield* Fiber.join(caller))._tag, "TransportError")
      const events = yield* Fiber.join(collected)
      assert.deepStrictEqual(events.map((event) => event._tag), ["Failed", "Failed", "Terminal"])
      yield* adjust("1 hour")
      assert.strictEqual(fake.logins(), 3)
    }))

  it.effect("an unknown 4xx code that says it is not retryable gets a few attempts, then is terminal", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = () => FakeAuth.fail(unknown4xx())
      const service = yield* build(fake, { retry: Schedule.spaced("1 second"), coldStartWait: 0 })
      yield* Effect.flip(service.get)
      yield* adjust("1 hour")
      assert.strictEqual(fake.logins(), 3)
      const error = yield* Effect.flip(service.get)
      assert.strictEqual(error._tag, "UnknownPlatformError")
      assert.strictEqual(fake.logins(), 3)
      fake.login = () => FakeAuth.ok()
      assert.strictEqual(value(yield* service.refresh), "at-1")
    }))
})

describe("TokenService after its scope closed", () => {
  it.effect("a get or refresh that needs a new token is interrupted at once", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const scope = yield* Scope.make()
      const service = yield* build(fake).pipe(Scope.provide(scope))
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Effect.exit(service.get)
      assert.isTrue(Exit.hasInterrupts(exit))
      assert.isTrue(Exit.hasInterrupts(yield* Effect.exit(service.refresh)))
      assert.strictEqual(fake.logins(), 0)
    }))

  it.effect("a still-valid token keeps being served", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const scope = yield* Scope.make()
      const service = yield* build(fake).pipe(Scope.provide(scope))
      const token = yield* service.get
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust(seconds(3599))
      assert.strictEqual(yield* service.get, token)
      yield* TestClock.adjust(seconds(1))
      assert.isTrue(Exit.hasInterrupts(yield* Effect.exit(service.get)))
    }))
})

describe("TokenService with a store that does not answer", () => {
  it.effect("every store call is bounded by storeTimeout and treated as failed", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const store: TokenStore.Service = { get: Effect.never, set: () => Effect.never, withLock: () => Effect.never }
      const built = yield* Effect.forkChild(
        build(fake, { storeTimeout: "1 second" }, Layer.succeed(TokenStore.TokenStore, store))
      )
      yield* adjust("1 second")
      const service = yield* Fiber.join(built)
      const caller = yield* Effect.forkChild(service.get)
      // The lock, the read inside the attempt, the write: one second each at most.
      for (let i = 0; i < 3; i++) yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-1")
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("a lock that is granted but never released does not stall the next attempt", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      const store: TokenStore.Service = {
        ...memory,
        withLock: (self) => Effect.andThen(self, Effect.never)
      }
      const service = yield* build(fake, { storeTimeout: "1 second" }, Layer.succeed(TokenStore.TokenStore, store))
      const caller = yield* Effect.forkChild(service.get)
      yield* adjust("1 second")
      const first = yield* Fiber.join(caller)
      const again = yield* Effect.forkChild(service.refresh)
      yield* adjust("1 second")
      assert.strictEqual((yield* Fiber.join(again)).generation, first.generation + 1)
      assert.strictEqual(fake.logins() + fake.refreshes(), 2)
    }))

  it.effect("a lock that cuts the attempt off (a lease that ran out) fails it as retryable, and nobody hangs", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "3 seconds" })
      const memory = yield* TokenStore.makeMemory()
      let leases = 0
      const store: TokenStore.Service = {
        ...memory,
        // The first lease runs out after a second; later ones last.
        withLock: (self) =>
          ++leases === 1
            ? Effect.timeoutOrElse(self, {
              duration: "1 second",
              orElse: () =>
                Effect.fail(new TokenStore.TokenStoreError({ operation: "lock", description: "lease lost" }))
            })
            : self
      }
      const service = yield* build(
        fake,
        { retry: Schedule.spaced("1 second") },
        Layer.succeed(TokenStore.TokenStore, store)
      )
      const caller = yield* Effect.forkChild(service.get)
      yield* adjust("1 second")
      assert.strictEqual(fake.interrupted(), 1)
      for (let i = 0; i < 4; i++) yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-1")
    }))

  it.effect("a store call that does not let itself be interrupted is still given up at storeTimeout", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      const stuck = Effect.uninterruptible(Effect.andThen(Effect.sleep("1 hour"), memory.get))
      const store: TokenStore.Service = { ...memory, get: stuck }
      const built = yield* Effect.forkChild(
        build(fake, { storeTimeout: "1 second" }, Layer.succeed(TokenStore.TokenStore, store))
      )
      yield* adjust("1 second")
      const service = yield* Fiber.join(built)
      const caller = yield* Effect.forkChild(service.get)
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-1")
    }))

  it.effect("a lock whose release never answers does not hold up the service's scope", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      const store: TokenStore.Service = {
        ...memory,
        withLock: (self) => Effect.acquireUseRelease(Effect.void, () => self, () => Effect.never)
      }
      const scope = yield* Scope.make()
      const service = yield* build(fake, { storeTimeout: "1 second" }, Layer.succeed(TokenStore.TokenStore, store))
        .pipe(
          Scope.provide(scope)
        )
      const caller = yield* Effect.forkChild(service.get)
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-1")
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* settle
      assert.isDefined(closing.pollUnsafe(), "the scope closed")
    }))

  it.effect("adopts a newer short-lived token from a shared store outside its own (shrunk) forced window", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ expiresIn: 10 })
      const memory = yield* TokenStore.makeMemory()
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, memory))
      const first = yield* service.get
      // Another process obtains generation 2 (10 s, so its forced window is 1 s) and stores it.
      const other = FakeAuth.make({ expiresIn: 10 })
      const shared = yield* build(other, {}, Layer.succeed(TokenStore.TokenStore, memory)).pipe(
        Effect.andThen((peer) => peer.refresh)
      )
      yield* service.invalidate(first.generation)
      yield* settle
      const adopted = yield* service.get
      assert.strictEqual(adopted.generation, shared.generation)
      assert.strictEqual(fake.logins() + fake.refreshes(), 1, "adopted, not asked for")
    }))

  it.effect("a fleet's lock held elsewhere is never bypassed: the attempt adopts what the holder commits", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      const held = new TokenStore.TokenStoreError({ operation: "lock", description: "held", lockHeld: true })
      let holderCommitted = false
      const store: TokenStore.Service = {
        ...memory,
        lockWait: Duration.seconds(2),
        // Another process holds the lease and commits generation 7 while this one waits.
        withLock: () =>
          Effect.andThen(
            Effect.sleep("2 seconds"),
            Effect.suspend(() => {
              holderCommitted = true
              return Effect.andThen(memory.set(storedAt(7)), Effect.fail(held))
            })
          )
      }
      const service = yield* build(fake, { storeTimeout: "1 second" }, Layer.succeed(TokenStore.TokenStore, store))
      const caller = yield* Effect.forkChild(service.get)
      yield* adjust("2 seconds")
      const token = yield* Fiber.join(caller)
      assert.isTrue(holderCommitted)
      assert.strictEqual(token.generation, 7)
      assert.strictEqual(fake.logins() + fake.refreshes(), 0, "no platform call beside the holder")
    }))

  it.effect("a fleet's lock that fails because the store is down is bypassed: this process's own flight", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      const down = new TokenStore.TokenStoreError({ operation: "lock", description: "connection refused" })
      const store: TokenStore.Service = { ...memory, lockWait: Duration.seconds(30), withLock: () => Effect.fail(down) }
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, store))
      assert.strictEqual(value(yield* service.get), "at-1")
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("a store that echoes what it holds in its errors has the tokens masked in the log", () => {
    const logs = Logs.capture()
    return Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      const echoing: TokenStore.Service = {
        ...memory,
        set: (stored) =>
          Effect.fail(
            new TokenStore.TokenStoreError({
              operation: "set",
              description: `refused ${Redacted.value(stored.tokens.accessToken)} / ${
                Option.getOrElse(Option.map(stored.tokens.refreshToken, Redacted.value), () => "")
              }`
            })
          )
      }
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, echoing))
      const token = yield* service.get
      const line = logs.messages().find((message) => message.includes("could not be written"))
      assert.isDefined(line)
      assert.notInclude(line!, Redacted.value(token.token))
      assert.notInclude(line!, "rt-1")
      assert.include(line!, "<redacted>")
    }).pipe(Effect.provide(logs.layer))
  })
})

describe("TokenService against hostile policies and loggers", () => {
  it.effect("a retry schedule that dies pauses and retries; the caller is not stranded", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n === 1 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const dying = Schedule.spaced("1 second").pipe(Schedule.map(() => {
        throw new Error("schedule bug")
      }))
      const service = yield* build(fake, { retry: dying })
      const caller = yield* Effect.forkChild(service.get)
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-1")
      assert.strictEqual(fake.logins(), 2)
    }))

  it.effect("a schedule with no delay does not retry in a tight loop", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = () => FakeAuth.fail(FakeAuth.transport())
      const service = yield* build(fake, { retry: Schedule.forever, coldStartWait: 0 })
      yield* Effect.flip(service.get)
      for (let i = 0; i < 10; i++) yield* adjust("100 millis")
      assert.isAtMost(fake.logins(), 11)
    }))

  it.effect("a logger that throws does not kill the worker", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const throwing = Logger.make(() => {
        throw new Error("logger bug")
      })
      const service = yield* build(fake).pipe(Effect.provide(Logger.layer([throwing])))
      assert.strictEqual(value(yield* service.get), "at-1")
      assert.strictEqual((yield* service.refresh).generation, 2)
    }))

  it.effect("a caller waiting out a back-off joins a retry that another caller started early", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n === 1 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const service = yield* build(fake, {
        retry: Schedule.spaced("1 minute"),
        shortenBackOffAfter: "5 seconds",
        coldStartWait: "2 minutes"
      })
      const waiting = yield* Effect.forkChild(service.get)
      yield* adjust("6 seconds")
      // The waiting caller is asleep until the retry at 1 minute; this one cuts the back-off short.
      const early = yield* service.get
      yield* settle
      assert.strictEqual(yield* Fiber.join(waiting), early)
      assert.strictEqual(fake.logins(), 2)
    }))

  it.effect("storeTimeout must be longer than zero", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(build(FakeAuth.make(), { storeTimeout: 0 }))
      assert.strictEqual(error.option, "storeTimeout")
    }))
})

describe("TokenService following a fleet's store", () => {
  /** A shared store (not in process) whose commits by "other processes" are announced on `announce`. */
  const sharedStore = Effect.gen(function*() {
    const memory = yield* TokenStore.makeMemory()
    const announce = yield* Queue.unbounded<number>()
    const store: TokenStore.Service = { get: memory.get, set: memory.set, changes: Stream.fromQueue(announce) }
    const otherProcessCommits = (stored: TokenStore.StoredToken) =>
      Effect.andThen(memory.set(stored), Queue.offer(announce, stored.generation))
    return { store, memory, otherProcessCommits }
  })

  it.effect("adopts an announced generation at once, and refreshes on the adopted token's schedule", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { otherProcessCommits, store } = yield* sharedStore
      const service = yield* build(fake, { jitter: 0 }, Layer.succeed(TokenStore.TokenStore, store))
      assert.strictEqual((yield* service.get).generation, 1)
      yield* adjust(minutes(30))
      yield* otherProcessCommits(issued(5, minutes(30)))
      yield* settle
      const adopted = yield* service.get
      assert.strictEqual(adopted.generation, 5)
      assert.strictEqual(value(adopted), "at-fleet-5")
      // The first token's refresh was due at 50 minutes; the adopted one's is at 80.
      yield* adjust(minutes(25))
      assert.strictEqual(fake.refreshes(), 0)
      yield* adjust(minutes(25))
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("reads the store every followInterval, for announcements that were lost", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { memory, store } = yield* sharedStore
      const service = yield* build(fake, { followInterval: "10 seconds" }, Layer.succeed(TokenStore.TokenStore, store))
      yield* service.get
      yield* memory.set(issued(3, 0))
      yield* adjust("9 seconds")
      assert.strictEqual((yield* service.get).generation, 1)
      yield* adjust("1 second")
      yield* settle
      assert.strictEqual((yield* service.get).generation, 3)
      assert.strictEqual(fake.logins() + fake.refreshes(), 1)
    }))

  it.effect("an announcement of an older generation changes nothing", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { otherProcessCommits, store } = yield* sharedStore
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, store))
      yield* service.get
      yield* otherProcessCommits(issued(5, 0))
      yield* settle
      const adopted = yield* service.get
      assert.strictEqual(adopted.generation, 5)
      // A late announcement of generation 3, and the store written back to it (as a buggy store might).
      yield* otherProcessCommits(issued(3, 0))
      yield* settle
      assert.strictEqual(yield* service.get, adopted)
    }))

  it.effect("the same generation with a token issued later (two processes obtained it while the store was out of reach): adopted; one issued earlier: not", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { otherProcessCommits, store } = yield* sharedStore
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, store))
      const own = yield* service.get
      assert.strictEqual(own.generation, 1)
      // Issued before this process's own login: the platform no longer honours it.
      yield* adjust("1 second")
      yield* otherProcessCommits(issued(1, -seconds(1)))
      yield* settle
      assert.strictEqual(value(yield* service.get), "at-1")
      // Issued after it: that login killed this process's token.
      yield* otherProcessCommits(issued(1, seconds(1)))
      yield* settle
      const converged = yield* service.get
      assert.strictEqual(converged.generation, 1)
      assert.strictEqual(value(converged), "at-fleet-1")
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("a token of the same generation adopted from the store is refreshed on its own schedule", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { otherProcessCommits, store } = yield* sharedStore
      const service = yield* build(fake, { jitter: 0 }, Layer.succeed(TokenStore.TokenStore, store))
      yield* service.get
      yield* adjust(minutes(10))
      yield* otherProcessCommits(issued(1, minutes(10)))
      yield* settle
      assert.strictEqual(value(yield* service.get), "at-fleet-1")
      // The own token's refresh was due at 50 minutes; the adopted one's is at 60.
      yield* adjust(minutes(45))
      assert.strictEqual(fake.refreshes(), 0)
      yield* adjust(minutes(6))
      assert.strictEqual(fake.refreshes(), 1)
    }))

  it.effect("a refused refresh token (100006) first re-reads the store: a sibling that rotated it is adopted, no login", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { memory, store } = yield* sharedStore
      fake.refresh = () => {
        // Meanwhile a sibling refreshed with the same refresh token and committed generation 2.
        Effect.runSync(memory.set(issued(2, minutes(50))))
        return FakeAuth.fail(FakeAuth.rejected())
      }
      const service = yield* build(
        fake,
        { jitter: 0, followInterval: "1 hour" },
        Layer.succeed(TokenStore.TokenStore, store)
      )
      yield* service.get
      yield* adjust(minutes(50))
      const token = yield* service.get
      assert.strictEqual(token.generation, 2)
      assert.strictEqual(value(token), "at-fleet-2")
      assert.strictEqual(fake.logins(), 1, "no login after the refusal")
    }))

  it.effect("a store found empty (restarted without persistence) is seeded again with the valid token", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const held = yield* Ref.make(Option.none<TokenStore.StoredToken>())
      const store: TokenStore.Service = {
        get: Ref.get(held),
        set: (stored) => Ref.set(held, Option.some(stored))
      }
      const service = yield* build(fake, { followInterval: "10 seconds" }, Layer.succeed(TokenStore.TokenStore, store))
      const token = yield* service.get
      const events = yield* Effect.forkChild(Stream.runCollect(Stream.take(service.changes, 1)))
      yield* settle
      yield* Ref.set(held, Option.none())
      yield* adjust("10 seconds")
      yield* settle
      const reseeded = yield* Ref.get(held)
      assert.isTrue(Option.isSome(reseeded))
      assert.strictEqual(Option.getOrThrow(reseeded).generation, token.generation)
      assert.strictEqual(fake.logins() + fake.refreshes(), 1)
      assert.deepStrictEqual((yield* Fiber.join(events)).map((event) => event._tag), ["StoreReseeded"])
    }))

  it.effect("a shared store that fails is one StoreUnavailable change (each failure counted), and one StoreRecovered", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const memory = yield* TokenStore.makeMemory()
      let down = false
      const unavailable = new TokenStore.TokenStoreError({ operation: "get", description: "connection refused" })
      const store: TokenStore.Service = {
        get: Effect.suspend(() => down ? Effect.fail(unavailable) : memory.get),
        set: memory.set
      }
      const failures = Metric.withAttributes(TokenMetrics.storeFailures, { operation: "get" })
      const before = (yield* Metric.value(failures)).count
      const service = yield* build(fake, { followInterval: "1 second" }, Layer.succeed(TokenStore.TokenStore, store))
      yield* service.get
      const events = yield* Effect.forkChild(Stream.runCollect(Stream.take(service.changes, 2)))
      yield* settle
      down = true
      for (let i = 0; i < 3; i++) yield* adjust("1 second")
      assert.strictEqual((yield* Metric.value(TokenMetrics.storeAvailable)).value, 0)
      down = false
      yield* adjust("1 second")
      yield* settle
      assert.deepStrictEqual((yield* Fiber.join(events)).map((event) => event._tag), [
        "StoreUnavailable",
        "StoreRecovered"
      ])
      assert.strictEqual((yield* Metric.value(failures)).count - before, 3)
      assert.strictEqual((yield* Metric.value(TokenMetrics.storeAvailable)).value, 1)
      assert.strictEqual(fake.logins(), 1, "the token in memory was served throughout")
    }))

  /** A service on a fleet's store over memory (a lock that always grants), with a 10 s invalidationCooldown. */
  const buildOnFleetStore = (fake: FakeAuth.FakeAuth) =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory()
      const fleetStore: TokenStore.Service = {
        get: memory.get,
        set: memory.set,
        withLock: (self) => self,
        lockWait: Duration.seconds(5)
      }
      return yield* build(
        fake,
        { invalidationCooldown: "10 seconds" },
        Layer.succeed(TokenStore.TokenStore, fleetStore)
      )
    })

  it.effect("a fleet's fresh token refused on a business call is not replaced before invalidationCooldown", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const service = yield* buildOnFleetStore(fake)
      const first = yield* service.get
      yield* adjust("2 seconds")
      yield* service.invalidate(first.generation, "1010005")
      for (let i = 0; i < 6; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 0, "no refresh within the cooldown")
      for (let i = 0; i < 10; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 1, "one refresh once it has passed")
      assert.strictEqual(fake.logins(), 1)
      assert.isAbove((yield* service.get).generation, first.generation)
    }))

  it.effect("the cooldown of a short-lived token is a tenth of its lifetime: a refusal is acted on long before its refresh", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ expiresIn: 20 })
      const service = yield* buildOnFleetStore(fake)
      const first = yield* service.get
      yield* adjust("1 second")
      yield* service.invalidate(first.generation, "1010005")
      yield* settle
      assert.strictEqual(fake.refreshes(), 0, "not within 2 seconds of the token's 20")
      for (let i = 0; i < 4; i++) yield* adjust("1 second")
      assert.strictEqual(
        fake.refreshes(),
        1,
        "replaced once 2 seconds had passed, not at its proactive refresh (10 s or later)"
      )
      assert.strictEqual(fake.logins(), 1)
      assert.isAbove((yield* service.get).generation, first.generation)
    }))
})

describe("TokenService on a fleet's store out of reach", () => {
  const down = new TokenStore.TokenStoreError({ operation: "get", description: "connection refused" })

  /**
   * A fleet's store over memory (compare-and-set on the generation), out of reach while
   * `outage.down`, and empty after `outage.wiped` (a restart) until the next write.
   */
  const reachableWhen = Effect.gen(function*() {
    const memory = yield* TokenStore.makeMemory()
    const outage = { down: false, wiped: false }
    const reachable = <A>(self: Effect.Effect<A, TokenStore.TokenStoreError>) =>
      Effect.suspend(() => outage.down ? Effect.fail(down) : self)
    const held = Effect.suspend(() => outage.wiped ? Effect.succeed(Option.none<TokenStore.StoredToken>()) : memory.get)
    const commit = (
      token: TokenStore.StoredToken
    ): Effect.Effect<TokenStore.CommitResult, TokenStore.TokenStoreError> =>
      reachable(
        Effect.flatMap(held, (current): Effect.Effect<TokenStore.CommitResult, TokenStore.TokenStoreError> => {
          const stored = Option.match(current, { onNone: () => 0, onSome: (s) => s.generation })
          if (token.generation <= stored) {
            return Effect.succeed({ _tag: "Refused", generation: token.generation, stored })
          }
          outage.wiped = false
          return Effect.as(memory.set(token), { _tag: "Committed", generation: token.generation } as const)
        })
      )
    const store: TokenStore.Service = {
      get: reachable(held),
      set: (token) => Effect.asVoid(commit(token)),
      commit,
      withLock: (self) => Effect.andThen(reachable(Effect.void), self),
      lockWait: Duration.seconds(30)
    }
    return { memory, outage, commit, layer: Layer.succeed(TokenStore.TokenStore, store) }
  })

  it.effect("a refresh due while the store is out of reach waits for it while the token is valid, and is made once it is back", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0 }, layer)
      yield* service.get
      yield* adjust(minutes(49))
      outage.down = true
      yield* adjust(minutes(5))
      assert.strictEqual(fake.refreshes(), 0, "no refresh without the store while the token is valid")
      assert.strictEqual(value(yield* service.get), "at-1", "the valid token is served meanwhile")
      outage.down = false
      yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(Option.getOrThrow(yield* memory.get).generation, 2)
    }))

  it.effect("…and is made alone by the time the forced window begins with the store still out of reach", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0 }, layer)
      yield* service.get
      outage.down = true
      // It waits until the forced window (59:30).
      yield* adjust(minutes(59) + seconds(29))
      assert.strictEqual(fake.refreshes(), 0)
      yield* adjust("2 seconds")
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(value(yield* service.get), "at-2")
    }))

  it.effect("a refresh token refused while the store is out of reach waits for the store: the sibling's token is adopted, no login", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour", forcedWindow: "1 second" }, layer)
      yield* service.get
      outage.down = true
      // A sibling refreshed with the same refresh token while the store was out of reach.
      fake.refresh = () => FakeAuth.fail(FakeAuth.rejected())
      yield* adjust(minutes(60))
      assert.strictEqual(fake.refreshes(), 1)
      // The store comes back, and the sibling writes its token again.
      yield* adjust("3 seconds")
      yield* memory.set(
        issued(2, minutes(59))
      )
      outage.down = false
      yield* adjust("1 second")
      assert.strictEqual(value(yield* service.get), "at-fleet-2")
      assert.strictEqual(fake.logins(), 1, "no login")
    }))

  it.effect("a refresh token refused in an attempt made alone, just as the store comes back: the store is waited for, no login without the lock", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour", forcedWindow: "1 second" }, layer)
      yield* service.get
      outage.down = true
      // Made alone at the forced window (59:59), refused; the store answers again as the refusal arrives.
      fake.refresh = () => {
        outage.down = false
        return FakeAuth.fail(FakeAuth.rejected())
      }
      yield* adjust(minutes(60))
      assert.strictEqual(fake.refreshes(), 1)
      // The sibling that rotated the refresh token writes its token a second later.
      yield* adjust("1 second")
      yield* memory.set(issued(2, minutes(59)))
      yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 1, "no login")
      assert.strictEqual(value(yield* service.get), "at-fleet-2")
    }))

  it.effect("a refresh token refused on a store found empty (restarted): the lock is let go, and the retry adopts what the process holding the newest token writes back — no login", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { commit, layer, outage } = yield* reachableWhen
      const service = yield* build(
        fake,
        { jitter: 0, followInterval: "1 hour", retry: Schedule.spaced("2 seconds") },
        layer
      )
      yield* service.get
      // Redis restarted empty; a sibling had rotated the refresh token and holds the newer token.
      outage.wiped = true
      fake.refresh = () => FakeAuth.fail(FakeAuth.rejected())
      // Refreshed at 50:00 (10 minutes before expiry), refused.
      yield* adjust(minutes(50))
      assert.strictEqual(fake.refreshes(), 1)
      yield* adjust("1 second")
      yield* commit(issued(2, minutes(49)))
      yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 1, "no login")
      assert.strictEqual(value(yield* service.get), "at-fleet-2")
    }))

  it.effect("…and if nobody writes one back: the retry logs in once, under the lock", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour" }, layer)
      const first = yield* service.get
      outage.wiped = true
      fake.refresh = () => FakeAuth.fail(FakeAuth.rejected())
      yield* service.invalidate(first.generation)
      const caller = yield* Effect.forkChild(service.get)
      for (let i = 0; i < 5; i++) yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 2)
      assert.strictEqual(fake.refreshes(), 1, "the refused refresh token is not sent again")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-2")
    }))

  it.effect("…and logs in alone once the store has stayed out of reach for as long as callers wait for a token (coldStartWait)", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, forcedWindow: "1 second", coldStartWait: "10 seconds" }, layer)
      yield* service.get
      outage.down = true
      fake.refresh = () => FakeAuth.fail(FakeAuth.rejected())
      // Refused at 59:59, when the forced window begins.
      yield* adjust(minutes(60))
      assert.strictEqual(fake.refreshes(), 1)
      for (let i = 0; i < 7; i++) yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 1, "still waiting for the store")
      for (let i = 0; i < 4; i++) yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 2)
      assert.strictEqual(value(yield* service.get), "at-2")
    }))

  it.effect("a refresh waiting for the store is made at once when the token is invalidated (not for a refusal on a call), or a refresh is asked for", () =>
    Effect.gen(function*() {
      for (const press of ["invalidate", "refresh"] as const) {
        const fake = FakeAuth.make()
        const { layer, outage } = yield* reachableWhen
        const service = yield* build(fake, { jitter: 0 }, layer)
        const first = yield* service.get
        outage.down = true
        yield* adjust(minutes(51))
        assert.strictEqual(fake.refreshes(), 0, "waiting for the store")
        const caller = yield* Effect.forkChild(
          press === "invalidate"
            ? Effect.andThen(service.invalidate(first.generation), service.get)
            : service.refresh
        )
        yield* adjust("1 second")
        assert.strictEqual(fake.refreshes(), 1, press)
        assert.strictEqual(value(yield* Fiber.join(caller)), "at-2", press)
      }
    }))

  it.effect("a refresh waiting for the store, then the token refused on a call: the store is waited for, the sibling's token adopted, no refresh", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour", coldStartWait: "10 seconds" }, layer)
      const first = yield* service.get
      outage.down = true
      yield* adjust(minutes(51))
      assert.strictEqual(fake.refreshes(), 0, "waiting for the store")
      // A sibling whose store answered again replaced the token: this process's calls are refused.
      const caller = yield* Effect.forkChild(
        Effect.andThen(service.invalidate(first.generation, "1010005"), service.get)
      )
      for (let i = 0; i < 5; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 0, "still waiting for the store, not refreshing alone")
      yield* memory.set(issued(2, minutes(51)))
      outage.down = false
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-fleet-2")
      assert.strictEqual(fake.refreshes(), 0)
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("…and an explicit refresh asked for meanwhile waits with it, and gets the sibling's token", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour", coldStartWait: "10 seconds" }, layer)
      const first = yield* service.get
      outage.down = true
      yield* adjust(minutes(51))
      yield* service.invalidate(first.generation, "1010005")
      const caller = yield* Effect.forkChild(service.refresh)
      for (let i = 0; i < 3; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 0, "the refresh waits for the store too")
      yield* memory.set(issued(2, minutes(51)))
      outage.down = false
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-fleet-2")
      assert.strictEqual(fake.refreshes(), 0)
    }))

  it.effect("…and refreshed alone once the store has stayed out of reach for coldStartWait", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour", coldStartWait: "10 seconds" }, layer)
      const first = yield* service.get
      outage.down = true
      yield* adjust(minutes(51))
      const caller = yield* Effect.forkChild(
        Effect.andThen(service.invalidate(first.generation, "1010005"), service.get)
      )
      for (let i = 0; i < 9; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 0)
      for (let i = 0; i < 2; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-2")
    }))

  it.effect("a token refused on a call while the store is out of reach: the store is waited for, the sibling's token adopted, no refresh", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour", coldStartWait: "10 seconds" }, layer)
      const first = yield* service.get
      yield* adjust(minutes(20))
      outage.down = true
      const caller = yield* Effect.forkChild(
        Effect.andThen(service.invalidate(first.generation, "1010005"), service.get)
      )
      for (let i = 0; i < 5; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 0, "waiting for the store")
      // A sibling replaced the token; the store comes back with it.
      yield* memory.set(
        issued(2, minutes(20))
      )
      outage.down = false
      yield* adjust("1 second")
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-fleet-2")
      assert.strictEqual(fake.refreshes() + fake.logins(), 1, "no refresh, no second login")
    }))

  it.effect("…and refreshed alone once callers have waited coldStartWait with the store still out of reach", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, outage } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, coldStartWait: "10 seconds" }, layer)
      const first = yield* service.get
      yield* adjust(minutes(20))
      outage.down = true
      const caller = yield* Effect.forkChild(
        Effect.andThen(service.invalidate(first.generation, "1010005"), service.get)
      )
      for (let i = 0; i < 9; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 0)
      for (let i = 0; i < 2; i++) yield* adjust("1 second")
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(value(yield* Fiber.join(caller)), "at-2")
    }))

  it.effect("a write the store refuses (another process committed while the request was on the wire) gives the store's token", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour" }, layer)
      yield* service.get
      fake.refresh = () => {
        // This process's lease ran out while its request was on the wire: another logged in and committed.
        Effect.runSync(memory.set(
          issued(2, minutes(50))
        ))
        return FakeAuth.ok()
      }
      yield* adjust(minutes(50))
      const token = yield* service.get
      assert.strictEqual(value(token), "at-fleet-2")
      assert.strictEqual(Option.getOrThrow(yield* memory.get).tokens.accessToken.pipe(Redacted.value), "at-fleet-2")
    }))

  it.effect("a write refused by a store holding an older token of that generation: this one, issued later, is written again above it", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 hour" }, layer)
      yield* service.get
      fake.refresh = () => {
        // A sibling wrote generation 2 meanwhile, a token obtained before this refresh (so no longer valid).
        Effect.runSync(memory.set(
          issued(2, minutes(49))
        ))
        return FakeAuth.ok()
      }
      yield* adjust(minutes(50))
      const token = yield* service.get
      assert.strictEqual(value(token), "at-2")
      assert.strictEqual(token.generation, 3)
      const stored = Option.getOrThrow(yield* memory.get)
      assert.deepStrictEqual([stored.generation, Redacted.value(stored.tokens.accessToken)], [3, "at-2"])
    }))

  it.effect("a store failed over to a replica that lags behind is written again with the newer token", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const { layer, memory } = yield* reachableWhen
      const service = yield* build(fake, { jitter: 0, followInterval: "1 second" }, layer)
      yield* service.get
      yield* adjust(minutes(50))
      assert.strictEqual((yield* service.get).generation, 2)
      yield* memory.set(storedAt(1))
      yield* adjust("1 second")
      assert.strictEqual(Option.getOrThrow(yield* memory.get).generation, 2)
      assert.strictEqual(fake.logins() + fake.refreshes(), 2)
    }))
})

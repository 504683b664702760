/**
 * The behaviours of `TokenService` around failures: static stability, the cold-start wait,
 * back-offs cut short, the one retry decision, a closed service, and a store that does not answer.
 */
import { assert, describe, it } from "@effect/vitest"
import { IocmError } from "@iocm/core"
import { Effect, Exit, Fiber, Layer, Schedule, Scope, Stream } from "effect"
import * as TestClock from "effect/testing/TestClock"
import * as TokenStore from "../src/TokenStore.js"
import * as FakeAuth from "./utils/FakeAuth.js"
import { adjust, build, seconds, settle, value } from "./utils/Harness.js"

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
})

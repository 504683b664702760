import { assert, describe, it } from "@effect/vitest"
import { IocmError } from "@iocm/core"
import { FakeAuth, Logs, Spans, Tokens } from "@iocm/testing"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Metric, Option, Random, Redacted, Ref, Stream } from "effect"
import * as TestClock from "effect/testing/TestClock"
import * as TokenEvent from "../src/TokenEvent.js"
import * as TokenMetrics from "../src/TokenMetrics.js"
import * as TokenService from "../src/TokenService.js"
import * as TokenStore from "../src/TokenStore.js"

import { adjust, build, fixedRandom, minutes, seconds, settle, value } from "./utils/Harness.js"

describe("TokenService.get", () => {
  it.effect("logs in on the first call, then serves the token with no I/O", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const service = yield* build(fake)
      const first = yield* service.get
      assert.strictEqual(value(first), "at-1")
      assert.strictEqual(first.generation, 1)
      assert.strictEqual(first.expiresAt, seconds(3600))
      yield* adjust(minutes(40))
      for (let i = 0; i < 1000; i++) {
        const again = yield* service.get
        assert.strictEqual(again, first)
      }
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.refreshes(), 0)
    }))

  it.effect("10 000 concurrent callers on an expired token: exactly one request, one token for all", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "1 second" })
      // A stored token that expired an hour ago, whose refresh token is still good.
      yield* TestClock.setTime(minutes(180))
      const expired = new TokenStore.StoredToken({
        generation: 7,
        tokens: Tokens.tokenSet({ accessToken: "old", refreshToken: "rt-old", issuedAt: minutes(60) })
      })
      const service = yield* build(fake, {}, TokenStore.layerMemoryFrom(expired))
      const fiber = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 10_000 }), () => service.get, { concurrency: "unbounded" })
      )
      yield* settle
      yield* adjust("1 second")
      const tokens = yield* Fiber.join(fiber)
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(fake.logins(), 0)
      assert.strictEqual(fake.calls[0]?.refreshToken, "rt-old")
      assert.strictEqual(tokens.length, 10_000)
      const first = tokens[0]!
      assert.strictEqual(value(first), "at-1")
      assert.strictEqual(first.generation, 8)
      assert.isTrue(tokens.every((token) => token === first))
    }))

  it.effect("a cold herd shares one login", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "2 seconds" })
      const service = yield* build(fake)
      const fiber = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 1000 }), () => service.get, { concurrency: "unbounded" })
      )
      yield* settle
      yield* adjust("2 seconds")
      const tokens = yield* Fiber.join(fiber)
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.maxInFlight(), 1)
      assert.isTrue(tokens.every((token) => value(token) === "at-1"))
    }))

  it.effect("interrupting the first waiter does not cancel the shared login", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "1 second" })
      const service = yield* build(fake)
      const first = yield* Effect.forkChild(service.get)
      yield* settle
      const others = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 5 }), () => service.get, { concurrency: "unbounded" })
      )
      yield* settle
      yield* Fiber.interrupt(first)
      yield* adjust("1 second")
      const tokens = yield* Fiber.join(others)
      assert.deepStrictEqual(tokens.map(value), ["at-1", "at-1", "at-1", "at-1", "at-1"])
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.interrupted(), 0)
    }))

  // The fiber yields to the scheduler every 2048 operations; burning n operations before the call
  // moves that yield point across every step of `get`, `refresh` and `invalidate`, and the caller
  // is interrupted right there. Whatever the point, the next caller must get a token.
  const burn = (n: number): Effect.Effect<void> => {
    let effect: Effect.Effect<void> = Effect.void
    for (let i = 0; i < n; i++) effect = Effect.andThen(effect, Effect.void)
    return effect
  }
  const warm = (service: TokenService.Service) => Effect.asVoid(service.get)
  const victims: ReadonlyArray<
    readonly [
      string,
      (service: TokenService.Service) => Effect.Effect<void, unknown>,
      (service: TokenService.Service) => Effect.Effect<unknown, unknown>
    ]
  > = [
    ["a cold get", () => Effect.void, (service) => service.get],
    ["refresh", warm, (service) => service.refresh],
    ["invalidate", warm, (service) => service.invalidate(1)]
  ]
  for (const [name, prepare, victim] of victims) {
    it.effect(`a caller of ${name} interrupted at any point never strands the flight`, () =>
      Effect.gen(function*() {
        const stranded: Array<number> = []
        for (let n = 960; n < 1080; n++) {
          yield* Effect.scoped(Effect.gen(function*() {
            const fake = FakeAuth.make({ latency: "100 millis" })
            const service = yield* build(fake)
            const prepared = yield* Effect.forkChild(prepare(service))
            yield* settle
            yield* adjust("100 millis")
            yield* Fiber.join(prepared)
            const caller = yield* Effect.forkChild(Effect.andThen(burn(n), victim(service)))
            yield* Effect.yieldNow
            yield* Fiber.interrupt(caller)
            const next = yield* Effect.forkChild(service.get)
            yield* settle
            yield* adjust("1 second")
            if (next.pollUnsafe() === undefined) stranded.push(n)
          }))
        }
        assert.deepStrictEqual(stranded, [])
      }), 120_000)
  }

  it.effect("a caller that times out does not poison the flight", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "5 seconds" })
      const service = yield* build(fake)
      const impatient = yield* Effect.forkChild(Effect.timeoutOption(service.get, "1 second"))
      const patient = yield* Effect.forkChild(service.get)
      yield* settle
      yield* adjust("1 second")
      assert.isTrue(Option.isNone(yield* Fiber.join(impatient)))
      yield* adjust("4 seconds")
      assert.strictEqual(value(yield* Fiber.join(patient)), "at-1")
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(value(yield* service.get), "at-1")
    }))
})

describe("TokenService background refresh", () => {
  it.effect("fires inside the lead window, and get does no I/O before it", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const service = yield* build(fake)
      yield* service.get
      // lead 10 min, jitter up to 2 min: due between 48 and 50 minutes.
      yield* adjust(minutes(47))
      const before = yield* service.get
      assert.strictEqual(before.generation, 1)
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login"])
      yield* adjust(minutes(3))
      assert.strictEqual(fake.refreshes(), 1)
      const refreshedAt = fake.calls[1]!.at
      assert.isTrue(refreshedAt >= minutes(48) && refreshedAt <= minutes(50), `refreshed at ${refreshedAt}`)
      assert.strictEqual(fake.calls[1]!.refreshToken, "rt-1")
      const after = yield* service.get
      assert.strictEqual(value(after), "at-2")
      assert.strictEqual(after.generation, 2)
      assert.strictEqual(after.expiresAt, refreshedAt + seconds(3600))
      // ...and keeps doing so, once per token: every 48 to 50 minutes, so 7 times in 350 minutes.
      yield* adjust(minutes(60 * 5))
      assert.strictEqual(fake.refreshes(), 7)
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("counts expiry from when the request was sent, not when the answer arrived", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "20 seconds" })
      const service = yield* build(fake, { jitter: 0 })
      const fiber = yield* Effect.forkChild(service.get)
      yield* settle
      yield* adjust("20 seconds")
      const token = yield* Fiber.join(fiber)
      assert.strictEqual(token.expiresAt, seconds(3600))
      yield* adjust(minutes(50) - seconds(20) - 1)
      assert.strictEqual(fake.refreshes(), 0)
      yield* adjust(1)
      assert.strictEqual(fake.refreshes(), 1)
    }))

  it.effect("the jitter comes from Random: the same seed gives the same schedule", () =>
    Effect.gen(function*() {
      const schedule = (seed: string) =>
        Effect.gen(function*() {
          const fake = FakeAuth.make()
          const service = yield* TokenService.make().pipe(
            Effect.provide(Layer.merge(fake.layer, TokenStore.layerMemory)),
            Random.withSeed(seed)
          )
          yield* service.get
          yield* adjust(minutes(50))
          const at = fake.calls[1]!.at
          yield* TestClock.setTime(0)
          return at
        }).pipe(Effect.scoped)
      const a = yield* schedule("a")
      const a2 = yield* schedule("a")
      assert.strictEqual(a, a2)
      const fixed = yield* Effect.gen(function*() {
        const fake = FakeAuth.make()
        const service = yield* TokenService.make().pipe(
          Effect.provide(Layer.merge(fake.layer, TokenStore.layerMemory)),
          Effect.provideService(Random.Random, fixedRandom(0.5))
        )
        yield* service.get
        yield* adjust(minutes(50))
        return fake.calls[1]!.at
      }).pipe(Effect.scoped)
      assert.strictEqual(fixed, minutes(50) - minutes(1))
    }))
})

describe("TokenService failures", () => {
  it.effect("a refresh failing while the token is valid: the old token is served, attempts back off", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.refresh = () => FakeAuth.fail(FakeAuth.transport())
      const service = yield* build(fake, { jitter: 0 })
      const first = yield* service.get
      yield* adjust(minutes(50))
      assert.strictEqual(fake.refreshes(), 1)
      // Every get is served at once with the still-valid token.
      for (let i = 0; i < 100; i++) {
        assert.strictEqual(yield* service.get, first)
      }
      yield* adjust(minutes(9) + seconds(29))
      const attempts = fake.calls.filter((call) => call.operation === "refresh").map((call) => call.at)
      // Back-off: exponential from 500 ms, capped at 30 s, never below 500 ms: no storm.
      const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!)
      gaps.forEach((gap, i) => {
        assert.isTrue(gap >= 500, `gap ${i} = ${gap}`)
        assert.isTrue(gap <= Math.min(30_000, 500 * 2 ** i), `gap ${i} = ${gap}`)
      })
      assert.isTrue(attempts.length >= 19 && attempts.length <= 60, `${attempts.length} attempts`)
      assert.strictEqual(fake.maxInFlight(), 1)
      assert.strictEqual(yield* service.get, first)
      assert.strictEqual(fake.logins(), 1)
    }))

  it.effect("a back-off never outlasts the token: the last retry comes at expiry at the latest", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.refresh = () => FakeAuth.fail(FakeAuth.transport())
      const service = yield* build(fake, { jitter: 0 })
      yield* service.get
      // Refreshes fail from the lead window to expiry; the platform recovers 1 s before expiry.
      yield* adjust(seconds(3599))
      fake.refresh = () => FakeAuth.ok()
      const atExpiry = fake.calls.filter((call) => call.operation === "refresh").length
      yield* adjust(seconds(1))
      yield* settle
      const after = yield* service.get
      assert.strictEqual(value(after), "at-2")
      const refreshes = fake.calls.filter((call) => call.operation === "refresh")
      assert.strictEqual(refreshes.length, atExpiry + 1)
      assert.strictEqual(refreshes.at(-1)!.at, seconds(3600))
    }))

  it.effect("inside the forced window callers wait for the attempt, then get the still-valid token", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "2 seconds" })
      fake.refresh = () => FakeAuth.fail(FakeAuth.internal())
      const service = yield* build(fake, { jitter: 0, forcedWindow: "30 seconds", refreshLead: "20 seconds" })
      const loginFiber = yield* Effect.forkChild(service.get)
      yield* settle
      yield* adjust("2 seconds")
      const first = yield* Fiber.join(loginFiber)
      // forced window = min(30 s, lead 20 s): from 3580 s. The proactive refresh starts at 3580 s too.
      yield* adjust(seconds(3580) - seconds(2) + 1)
      assert.strictEqual(fake.refreshes(), 1)
      const waiting = yield* Effect.forkChild(service.get)
      yield* settle
      assert.isUndefined(waiting.pollUnsafe())
      yield* adjust("2 seconds")
      assert.strictEqual(yield* Fiber.join(waiting), first)
      assert.strictEqual(fake.refreshes(), 1)
    }))

  it.effect("with no valid token and no cold-start wait, a failure is served to callers only for its back-off", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n <= 2 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const service = yield* build(fake, { retryBase: "1 second", retryCap: "1 second", coldStartWait: 0 })
      const error = yield* Effect.flip(service.get)
      assert.strictEqual(error._tag, "TransportError")
      // During the back-off: the same failure, no new request.
      const again = yield* Effect.flip(service.get)
      assert.strictEqual(again, error)
      assert.strictEqual(fake.logins(), 1)
      // The worker retries after the back-off (it fails again), then again (it succeeds).
      yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 2)
      yield* adjust("1 second")
      assert.strictEqual(fake.logins(), 3)
      assert.strictEqual(value(yield* service.get), "at-1")
      assert.strictEqual(fake.logins(), 3)
    }))

  it.effect("RefreshTokenRejected: the refresh token is dropped and exactly one login follows", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.refresh = (n) => n === 1 ? FakeAuth.fail(FakeAuth.rejected()) : FakeAuth.ok()
      const service = yield* build(fake, { jitter: 0 })
      yield* service.get
      yield* adjust(minutes(50))
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "refresh", "login"])
      const token = yield* service.get
      assert.strictEqual(value(token), "at-2")
      assert.strictEqual(token.generation, 2)
      // The next refresh uses the refresh token of that login.
      yield* adjust(minutes(50))
      assert.strictEqual(fake.calls[3]?.refreshToken, "rt-2")
      assert.strictEqual(fake.logins(), 2)
    }))

  it.effect("RefreshTokenRejected then a failing login: callers get the login's error, once", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n === 1 ? FakeAuth.ok() : FakeAuth.fail(FakeAuth.internal())
      fake.refresh = () => FakeAuth.fail(FakeAuth.rejected())
      const service = yield* build(fake, { jitter: 0, retryBase: "10 seconds", retryCap: "10 seconds" })
      const first = yield* service.get
      const error = yield* Effect.flip(service.refresh)
      assert.strictEqual(error._tag, "PlatformInternalError")
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "refresh", "login"])
      // The refused refresh token is gone: the retry goes straight to login.
      assert.isTrue(Option.isNone(Option.flatMap(yield* service.current, (tokens) => tokens.refreshToken)))
      yield* adjust("10 seconds")
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "refresh", "login", "login"])
      // Meanwhile the still-valid token is served.
      assert.strictEqual(yield* service.get, first)
    }))

  it.effect("a missing refresh token, or one past its lifetime, leads to a login", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ refreshTokenLifetime: "90 minutes" })
      fake.login = (n) => FakeAuth.ok({ refreshToken: n !== 1 })
      const service = yield* build(fake, { jitter: 0 })
      yield* service.get
      yield* adjust(minutes(50))
      // No refresh token: login.
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "login"])
      yield* adjust(minutes(50))
      // rt-2 (issued at 50 min, valid 90 min) is still good at 100 min: refresh, which rotates to rt-3.
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "login", "refresh"])
      fake.refresh = () => FakeAuth.ok({ refreshToken: false })
      yield* adjust(minutes(50))
      // rt-3 issued at 100 min: still good at 150 min; the answer has no refresh token: rt-3 is kept.
      assert.strictEqual(fake.calls[3]?.refreshToken, "rt-3")
      yield* adjust(minutes(50))
      // At 200 min rt-3 (issued at 100 min, 90 min lifetime) has expired: login.
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), [
        "login",
        "login",
        "refresh",
        "refresh",
        "login"
      ])
    }))

  it.effect("a refresh token that fails core's local validation leads to one login, not a terminal state", () =>
    Effect.gen(function*() {
      // The platform issues a 300-character refresh token; like the real `IocmAuth`, the fake
      // refuses it before any request (InvalidInput, detectedLocally): no refresh reaches the platform.
      const fake = FakeAuth.make()
      fake.refreshTokenOf = (n) => `rt-${n}-`.padEnd(300, "r")
      fake.refresh = (_, refreshToken) =>
        refreshToken.length > 256
          ? FakeAuth.fail(
            new IocmError.InvalidInput({
              code: "50400",
              description: "refreshToken is longer than 256 characters.",
              detectedLocally: true
            })
          )
          : { _tag: "Die" }
      const service = yield* TokenService.make({ jitter: 0 }).pipe(
        Effect.provide(Layer.merge(fake.layer, TokenStore.layerMemory))
      )
      const relogins = Metric.withAttributes(TokenMetrics.loginTotal, { outcome: "success", reason: "rejected-token" })
      const reloginsBefore = (yield* Metric.value(relogins)).count
      const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(service.changes, 2)))
      yield* settle
      assert.strictEqual(value(yield* service.get), "at-1")
      // Lead 10 min, no jitter: due at 50 min.
      yield* adjust(minutes(50))
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "refresh", "login"])
      // The one refresh carried the unusable token, and was refused locally.
      assert.strictEqual(fake.calls[1]!.refreshToken, fake.refreshTokenOf(1))
      const token = yield* service.get
      assert.strictEqual(value(token), "at-2")
      assert.strictEqual(token.generation, 2)
      const events = yield* Fiber.join(collected)
      assert.deepStrictEqual(events.map((event) => event._tag), ["LoggedIn", "LoggedIn"])
      // The event says why the login happened, as the metric does.
      assert.isTrue(events[1]!._tag === "LoggedIn" && events[1]!.reason === "rejected-token")
      assert.strictEqual((yield* Metric.value(relogins)).count - reloginsBefore, 1)
      // The unusable refresh token was replaced by the one of the login.
      assert.strictEqual(
        Option.getOrUndefined(
          Option.map(Option.flatMap(yield* service.current, (t) => t.refreshToken), Redacted.value)
        ),
        fake.refreshTokenOf(2)
      )
      // Not terminal, and no loop: nothing more until the next token is due.
      yield* adjust(minutes(49))
      assert.deepStrictEqual(fake.calls.map((call) => call.operation), ["login", "refresh", "login"])
      // The one refresh carried the unusable token, and was refused locally.
      assert.strictEqual(fake.calls[1]!.refreshToken, fake.refreshTokenOf(1))
      assert.strictEqual(yield* service.get, token)
    }))

  it.effect("InvalidCredentials is terminal: no retries, callers fail at once until refresh is called", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n === 1 ? FakeAuth.fail(FakeAuth.invalidCredentials()) : FakeAuth.ok()
      const service = yield* build(fake)
      const error = yield* Effect.flip(service.get)
      assert.strictEqual(error._tag, "InvalidCredentials")
      yield* adjust(minutes(120))
      for (let i = 0; i < 10; i++) {
        assert.strictEqual(yield* Effect.flip(service.get), error)
      }
      assert.strictEqual(fake.logins(), 1)
      // Fixed (e.g. the secret was corrected): an explicit refresh leaves the terminal state.
      const token = yield* service.refresh
      assert.strictEqual(value(token), "at-1")
      assert.strictEqual(yield* service.get, token)
      assert.strictEqual(fake.logins(), 2)
    }))

  it.effect("a terminal error during a proactive refresh keeps serving the valid token until it expires", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.refresh = () => FakeAuth.fail(FakeAuth.applicationFrozen())
      const service = yield* build(fake, { jitter: 0 })
      const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(service.changes, 2)))
      yield* settle
      const token = yield* service.get
      const terminals = Metric.withAttributes(TokenMetrics.terminalTotal, { error: "ApplicationFrozen" })
      const before = (yield* Metric.value(terminals)).count
      yield* adjust(minutes(50))
      // Static stability: no retries, but the token is still good for ten minutes.
      const events = yield* Fiber.join(collected)
      assert.deepStrictEqual(events.map((event) => event._tag), ["LoggedIn", "Terminal"])
      assert.strictEqual((yield* Metric.value(terminals)).count - before, 1)
      for (const at of [0, minutes(5), minutes(10) - 1]) {
        if (at > 0) yield* TestClock.setTime(minutes(50) + at)
        assert.strictEqual(yield* service.get, token)
      }
      yield* TestClock.setTime(minutes(60))
      assert.strictEqual((yield* Effect.flip(service.get))._tag, "ApplicationFrozen")
      yield* adjust(minutes(60))
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(fake.logins(), 1)
      // refresh still clears the state.
      fake.refresh = () => FakeAuth.ok()
      assert.strictEqual((yield* service.refresh).generation, 2)
    }))

  it.effect("the worker survives a defect in IocmAuth", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.login = (n) => n === 1 ? { _tag: "Die" } : FakeAuth.ok()
      const service = yield* build(fake, { retryBase: "1 second", retryCap: "1 second" })
      const exit = yield* Effect.exit(service.get)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      yield* adjust("1 second")
      assert.strictEqual(value(yield* service.get), "at-1")
    }))

  it.effect("a token that expired on arrival is not asked for again at once", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ expiresIn: 1, latency: "2 seconds" })
      const service = yield* build(fake, { retryBase: "1 second", retryCap: "8 seconds", coldStartWait: 0 })
      const fiber = yield* Effect.forkChild(Effect.flip(service.get))
      yield* settle
      yield* adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "ExpiredOnArrival")
      assert.strictEqual(fake.logins(), 1)
      // Retries are spaced by the back-off, not back to back.
      yield* adjust("30 seconds")
      const gaps = fake.calls.slice(1).map((call, i) => call.at - fake.calls[i]!.at)
      assert.isTrue(gaps.every((gap) => gap >= 3000), `gaps ${gaps}`)
      assert.isTrue(fake.calls.length <= 10, `${fake.calls.length} calls`)
    }))

  it.effect("a short-lived token is refreshed ahead of expiry, not in a loop", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ expiresIn: 5 })
      const service = yield* build(fake)
      yield* service.get
      yield* adjust("60 seconds")
      // Refresh between 1.25 and 2.5 s into each 5-second token: 24 to 48 refreshes in a minute.
      assert.isTrue(fake.refreshes() >= 24 && fake.refreshes() <= 48, `${fake.refreshes()} refreshes`)
      const token = yield* service.get
      assert.isTrue(token.expiresAt > seconds(60))
    }))
})

describe("TokenService.invalidate", () => {
  it.effect("drops the token only if it is still the one of that generation", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const service = yield* build(fake)
      const first = yield* service.get
      assert.isTrue(yield* service.invalidate(first.generation))
      const second = yield* service.get
      assert.strictEqual(second.generation, 2)
      assert.strictEqual(fake.calls[1]?.refreshToken, "rt-1")
      // A stale generation is ignored.
      assert.isFalse(yield* service.invalidate(first.generation))
      assert.strictEqual(yield* service.get, second)
      assert.strictEqual(fake.refreshes(), 1)
    }))

  it.effect("starts the new flight at once", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "1 second" })
      const service = yield* build(fake)
      const fiber = yield* Effect.forkChild(service.get)
      yield* settle
      yield* adjust("1 second")
      const first = yield* Fiber.join(fiber)
      yield* service.invalidate(first.generation, "1010005")
      yield* settle
      assert.strictEqual(fake.refreshes(), 1)
      yield* adjust("1 second")
      assert.strictEqual((yield* service.get).generation, 2)
    }))
})

describe("TokenService rotation and store", () => {
  it.effect("the newest refresh token is used next; a response without one keeps the old", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const service = yield* build(fake, { jitter: 0 })
      yield* service.get
      yield* service.refresh
      assert.strictEqual(fake.calls[1]?.refreshToken, "rt-1")
      fake.refresh = () => FakeAuth.ok({ refreshToken: false })
      yield* service.refresh
      assert.strictEqual(fake.calls[2]?.refreshToken, "rt-2")
      const tokens = Option.getOrThrow(yield* service.current)
      assert.strictEqual(Redacted.value(tokens.accessToken), "at-3")
      assert.strictEqual(Redacted.value(Option.getOrThrow(tokens.refreshToken)), "rt-2")
      // The kept refresh token keeps its own expiry.
      assert.strictEqual(Option.getOrThrow(tokens.refreshExpiresAt), Duration.toMillis(Duration.days(30)))
      yield* service.refresh
      assert.strictEqual(fake.calls[3]?.refreshToken, "rt-2")
    }))

  it.effect("the new refresh token is stored before the new access token is published", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const seen: Array<{ stored: number; visible: number | undefined }> = []
      const serviceRef = yield* Ref.make<TokenService.Service | undefined>(undefined)
      const inner = yield* TokenStore.makeMemory()
      const store: TokenStore.Service = {
        get: inner.get,
        set: (token) =>
          Effect.gen(function*() {
            const service = yield* Ref.get(serviceRef)
            const visible = service === undefined
              ? undefined
              : Option.getOrUndefined(yield* service.current)?.accessToken
            seen.push({
              stored: token.generation,
              visible: visible === undefined ? undefined : Number(Redacted.value(visible).slice(3))
            })
            yield* inner.set(token)
          })
      }
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, store))
      yield* Ref.set(serviceRef, service)
      yield* service.get
      yield* service.refresh
      yield* service.refresh
      assert.deepStrictEqual(seen, [{ stored: 1, visible: undefined }, { stored: 2, visible: 1 }, {
        stored: 3,
        visible: 2
      }])
    }))

  it.effect("starts from a valid stored token without a login, and refreshes it on schedule", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const stored = new TokenStore.StoredToken({
        generation: 41,
        tokens: Tokens.tokenSet({ accessToken: "stored", refreshToken: "rt-stored", issuedAt: 0 })
      })
      const service = yield* build(fake, { jitter: 0 }, TokenStore.layerMemoryFrom(stored))
      const token = yield* service.get
      assert.strictEqual(value(token), "stored")
      assert.strictEqual(token.generation, 41)
      assert.strictEqual(fake.calls.length, 0)
      yield* adjust(minutes(50))
      assert.deepStrictEqual(fake.calls.map((call) => call.refreshToken), ["rt-stored"])
      assert.strictEqual((yield* service.get).generation, 42)
    }))

  it.effect("adopts a newer token written to a shared store by another process, without I/O", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const shared = yield* TokenStore.makeMemory()
      let locks = 0
      const store: TokenStore.Service = {
        ...shared,
        withLock: (self) => Effect.andThen(Effect.sync(() => locks++), self)
      }
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, store))
      const first = yield* service.get
      assert.strictEqual(locks, 1)
      // Another process refreshed: generation 2 is in the store, our token was invalidated.
      yield* shared.set(
        new TokenStore.StoredToken({
          generation: 2,
          tokens: Tokens.tokenSet({ accessToken: "other", refreshToken: "rt-other", issuedAt: 0 })
        })
      )
      yield* service.invalidate(first.generation, "1010005")
      const adopted = yield* service.get
      assert.strictEqual(value(adopted), "other")
      assert.strictEqual(adopted.generation, 2)
      assert.strictEqual(fake.calls.length, 1)
      assert.strictEqual(locks, 2)
    }))

  it.effect("a failing store is logged and bypassed", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const failing = (operation: "get" | "set" | "lock") =>
        new TokenStore.TokenStoreError({ operation, description: "store down" })
      const store: TokenStore.Service = {
        get: Effect.fail(failing("get")),
        set: () => Effect.fail(failing("set")),
        withLock: () => Effect.fail(failing("lock"))
      }
      const service = yield* build(fake, {}, Layer.succeed(TokenStore.TokenStore, store))
      assert.strictEqual(value(yield* service.get), "at-1")
      assert.strictEqual(fake.logins(), 1)
    }))
})

describe("TokenService lifecycle and events", () => {
  it.effect("closing the layer interrupts the flight in progress and its waiters", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make({ latency: "10 seconds" })
      const layer = TokenService.layer().pipe(Layer.provide(Layer.merge(fake.layer, TokenStore.layerMemory)))
      const waiter = yield* Effect.gen(function*() {
        const service = yield* TokenService.TokenService
        const waiter = yield* Effect.forkChild(service.get)
        yield* settle
        return waiter
      }).pipe(Effect.provide(layer))
      const exit = yield* Fiber.await(waiter)
      assert.isTrue(Exit.hasInterrupts(exit))
      assert.strictEqual(fake.interrupted(), 1)
    }))

  it.effect("publishes every change on the changes stream", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      fake.refresh = (n) => n === 1 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const service = yield* build(fake, { jitter: 0 })
      const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(service.changes, 5)))
      yield* settle
      const first = yield* service.get
      yield* adjust(minutes(51))
      yield* service.invalidate((yield* service.get).generation, "1010005")
      fake.login = () => FakeAuth.fail(FakeAuth.invalidCredentials())
      fake.refresh = () => FakeAuth.fail(FakeAuth.rejected())
      yield* Effect.flip(service.get)
      const events = yield* Fiber.join(collected)
      assert.deepStrictEqual(events.map((event) => event._tag), [
        "LoggedIn",
        "Failed",
        "Refreshed",
        "Invalidated",
        "Terminal"
      ])
      const [loggedIn, failed, refreshed, , terminal] = events as [
        TokenEvent.TokenEvent,
        TokenEvent.TokenEvent,
        TokenEvent.TokenEvent,
        TokenEvent.TokenEvent,
        TokenEvent.TokenEvent
      ]
      assert.isTrue(TokenEvent.TokenEvent.$is("LoggedIn")(loggedIn) && loggedIn.reason === "cold")
      assert.isTrue(loggedIn._tag === "LoggedIn" && loggedIn.generation === first.generation)
      assert.isTrue(failed._tag === "Failed" && failed.reason === "proactive" && failed.attempt === 1)
      assert.isTrue(refreshed._tag === "Refreshed" && refreshed.refreshToken === "rotated")
      assert.isTrue(terminal._tag === "Terminal" && terminal.error._tag === "InvalidCredentials")
      // No token ever appears in an event.
      assert.notInclude(JSON.stringify(events), "at-")
    }))
})

describe("TokenService observability", () => {
  it.effect("counts logins and refreshes by outcome and reason, and logs each change without a token", () => {
    const logs = Logs.capture()
    const capture = Spans.capture()
    return Effect.gen(function*() {
      const refreshed = (outcome: string, reason: string) =>
        Metric.value(Metric.withAttributes(Metric.counter("iocm_token_refresh_total"), { outcome, reason }))
      const loggedIn = Metric.value(
        Metric.withAttributes(Metric.counter("iocm_token_login_total"), { outcome: "success", reason: "cold" })
      )
      const before = {
        success: (yield* refreshed("success", "proactive")).count,
        failure: (yield* refreshed("TransportError", "proactive")).count,
        login: (yield* loggedIn).count
      }
      const fake = FakeAuth.make()
      fake.refresh = (n) => n === 1 ? FakeAuth.fail(FakeAuth.transport()) : FakeAuth.ok()
      const service = yield* build(fake, { jitter: 0 })
      yield* service.get
      yield* adjust(minutes(51))
      assert.strictEqual((yield* refreshed("success", "proactive")).count, before.success + 1)
      assert.strictEqual((yield* refreshed("TransportError", "proactive")).count, before.failure + 1)
      assert.strictEqual((yield* loggedIn).count, before.login + 1)
      const expiry = yield* Metric.value(Metric.gauge("iocm_token_seconds_to_expiry"))
      assert.isTrue(expiry.value > 3000 && expiry.value <= 3600, `gauge ${expiry.value}`)
      const histogram = yield* Metric.value(
        Metric.withAttributes(TokenMetrics.refreshDuration, { operation: "refresh" })
      )
      assert.isAtLeast(histogram.count, 2)
      // One line per change: logged in, failed, refreshed.
      assert.deepStrictEqual(logs.logs.map((log) => log.level), ["INFO", "WARN", "INFO"])
      assert.strictEqual(logs.logs[0]!.annotations.reason, "cold")
      assert.strictEqual(logs.logs[1]!.annotations.error, "TransportError")
      assert.strictEqual(logs.logs[2]!.annotations.generation, 2)
      assert.deepStrictEqual(
        capture.spans.filter((span) => span.name.startsWith("iocm.token")).map((span) => [
          span.name,
          span.attributes.get("reason"),
          span.attributes.get("outcome")
        ]),
        [
          ["iocm.token.flight", "cold", undefined],
          ["iocm.token.login", "cold", "success"],
          ["iocm.token.flight", "proactive", undefined],
          ["iocm.token.refresh", "proactive", "TransportError"],
          ["iocm.token.flight", "proactive", undefined],
          ["iocm.token.refresh", "proactive", "success"]
        ]
      )
      // Each request is a child of its flight; a flight is a root span.
      const flights = capture.spans.filter((span) => span.name === "iocm.token.flight")
      const requests = capture.spans.filter((span) => /^iocm\.token\.(login|refresh)$/.test(span.name))
      requests.forEach((request, i) => assert.strictEqual(Option.getOrUndefined(request.parent), flights[i]!.span))
      for (const flight of flights) assert.isTrue(Option.isNone(flight.parent))
      const expiresAt = yield* Metric.value(TokenMetrics.expiryTimestamp)
      assert.strictEqual(
        expiresAt.value,
        (yield* service.get).expiresAt / 1000,
        "the absolute expiry of the token in force"
      )
      const everything = JSON.stringify(logs.logs)
      for (const secret of ["at-1", "at-2", "rt-1", "rt-2"]) assert.notInclude(everything, secret)
    }).pipe(Effect.provide(logs.layer), Effect.withTracer(capture.tracer))
  })
})

/**
 * The token rules as a state machine, under TestClock: no network, time moved by hand.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted, Result } from "effect"
import * as TestClock from "effect/testing/TestClock"
import * as Platform from "../src/internal/platform.js"

const settings: Platform.Settings = {
  tokenLifetimeMillis: Duration.toMillis("1 hour"),
  refreshLifetimeMillis: Duration.toMillis("30 days"),
  rateLimit: 3,
  rateWindowMillis: Duration.toMillis("60 seconds"),
  frozenCode: "100449"
}

const app = { appId: "app", secret: Redacted.make("secret"), frozen: false }
const other = { appId: "other", secret: Redacted.make("other-secret"), frozen: false }
const frozen = { appId: "frozen", secret: Redacted.make("frozen-secret"), frozen: true }

const make = (overrides: Partial<Platform.Settings> = {}) =>
  Platform.make({ ...settings, ...overrides }, [app, other, frozen])

const code = <A>(effect: Effect.Effect<A, { readonly spec: { readonly code: string } }>) =>
  Effect.map(Effect.result(effect), Result.match({ onFailure: (e) => e.spec.code, onSuccess: () => "ok" }))

describe("platform state machine", () => {
  it.effect("login issues 32-hex tokens and expiresIn from the lifetime", () =>
    Effect.gen(function*() {
      const platform = yield* make({ tokenLifetimeMillis: 300_000 })
      const issued = yield* platform.login("app", app.secret)
      assert.match(issued.session.accessToken, /^[0-9a-f]{32}$/)
      assert.match(issued.session.refreshToken, /^[0-9a-f]{32}$/)
      assert.notStrictEqual(issued.session.accessToken, issued.session.refreshToken)
      assert.strictEqual(issued.expiresIn, 300)
    }))

  it.effect("sub-second lifetimes still report a positive whole expiresIn", () =>
    Effect.gen(function*() {
      const platform = yield* make({ tokenLifetimeMillis: 400 })
      assert.strictEqual((yield* platform.login("app", app.secret)).expiresIn, 1)
    }))

  it.effect("wrong secret or unknown app: 100208; frozen: 100449 or 100247", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      assert.strictEqual(yield* code(platform.login("app", Redacted.make("nope"))), "100208")
      assert.strictEqual(yield* code(platform.login("ghost", app.secret)), "100208")
      assert.strictEqual(yield* code(platform.login("frozen", frozen.secret)), "100449")
      // The frozen state is only revealed to the right secret.
      assert.strictEqual(yield* code(platform.login("frozen", Redacted.make("nope"))), "100208")
      const strict = yield* make({ frozenCode: "100247" })
      assert.strictEqual(yield* code(strict.login("frozen", frozen.secret)), "100247")
    }))

  it.effect("one valid access token per app: a new login invalidates the previous one", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const first = yield* platform.login("app", app.secret)
      const second = yield* platform.login("app", app.secret)
      assert.strictEqual(yield* code(platform.authorize("app", first.session.accessToken)), "1010005")
      assert.strictEqual(yield* code(platform.authorize("app", second.session.accessToken)), "ok")
      // Another app's login does not touch this app's token.
      yield* platform.login("other", other.secret)
      assert.strictEqual(yield* code(platform.authorize("app", second.session.accessToken)), "ok")
      // A token is only valid with its own app's app_key.
      assert.strictEqual(yield* code(platform.authorize("other", second.session.accessToken)), "1010005")
    }))

  it.effect("refresh rotates: new tokens, the old refresh token is spent, the old access token is gone", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const first = yield* platform.login("app", app.secret)
      const rt = Redacted.make(first.session.refreshToken)
      const second = yield* platform.refresh("app", app.secret, rt)
      assert.notStrictEqual(second.session.accessToken, first.session.accessToken)
      assert.notStrictEqual(second.session.refreshToken, first.session.refreshToken)
      assert.strictEqual(yield* code(platform.refresh("app", app.secret, rt)), "100006")
      assert.strictEqual(yield* code(platform.authorize("app", first.session.accessToken)), "1010005")
      assert.strictEqual(yield* code(platform.authorize("app", second.session.accessToken)), "ok")
    }))

  it.effect("refresh: unknown token, another app's token, a token replaced by a new login: 100006", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const mine = yield* platform.login("app", app.secret)
      const theirs = yield* platform.login("other", other.secret)
      assert.strictEqual(yield* code(platform.refresh("app", app.secret, Redacted.make("f".repeat(32)))), "100006")
      assert.strictEqual(
        yield* code(platform.refresh("app", app.secret, Redacted.make(theirs.session.refreshToken))),
        "100006"
      )
      yield* platform.login("app", app.secret)
      assert.strictEqual(
        yield* code(platform.refresh("app", app.secret, Redacted.make(mine.session.refreshToken))),
        "100006"
      )
    }))

  it.effect("refresh with a wrong secret is 100208 and does not spend the refresh token", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const first = yield* platform.login("app", app.secret)
      const rt = Redacted.make(first.session.refreshToken)
      assert.strictEqual(yield* code(platform.refresh("app", Redacted.make("nope"), rt)), "100208")
      assert.strictEqual(yield* code(platform.refresh("app", app.secret, rt)), "ok")
    }))

  it.effect("the access token expires after its lifetime (Clock)", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const issued = yield* platform.login("app", app.secret)
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual(yield* code(platform.authorize("app", issued.session.accessToken)), "ok")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* code(platform.authorize("app", issued.session.accessToken)), "1010005")
      // An expired access token can still be renewed with the refresh token.
      const renewed = yield* platform.refresh("app", app.secret, Redacted.make(issued.session.refreshToken))
      assert.strictEqual(yield* code(platform.authorize("app", renewed.session.accessToken)), "ok")
    }))

  it.effect("the refresh token expires after its lifetime (default 30 days)", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const issued = yield* platform.login("app", app.secret)
      yield* TestClock.adjust("30 days")
      assert.strictEqual(
        yield* code(platform.refresh("app", app.secret, Redacted.make(issued.session.refreshToken))),
        "100006"
      )
      assert.deepStrictEqual(yield* platform.sessions, [])
    }))

  it.effect("flow control: N calls per window per app, then 1010004 until the window ends", () =>
    Effect.gen(function*() {
      const platform = yield* make({ tokenLifetimeMillis: Duration.toMillis("1 day") })
      const mine = yield* platform.login("app", app.secret)
      const theirs = yield* platform.login("other", other.secret)
      const call = (appId: string, token: string) => code(platform.authorize(appId, token))
      for (let i = 0; i < 3; i++) assert.strictEqual(yield* call("app", mine.session.accessToken), "ok")
      assert.strictEqual(yield* call("app", mine.session.accessToken), "1010004")
      // Per app: the other app has its own budget.
      assert.strictEqual(yield* call("other", theirs.session.accessToken), "ok")
      // Rejected (invalid-token) calls do not count, and do not get 1010004.
      assert.strictEqual(yield* call("app", "0".repeat(32)), "1010005")
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(yield* call("app", mine.session.accessToken), "1010004")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* call("app", mine.session.accessToken), "ok")
    }))

  it.effect("control: freeze, unfreeze, revoke, register", () =>
    Effect.gen(function*() {
      const platform = yield* make()
      const issued = yield* platform.login("app", app.secret)
      assert.isTrue(yield* platform.setFrozen("app", true))
      assert.strictEqual(yield* code(platform.login("app", app.secret)), "100449")
      assert.isTrue(yield* platform.setFrozen("app", false))
      assert.isFalse(yield* platform.setFrozen("ghost", true))
      yield* platform.revoke("app")
      assert.strictEqual(yield* code(platform.authorize("app", issued.session.accessToken)), "1010005")
      yield* platform.registerApp({ appId: "new", secret: Redacted.make("s"), frozen: false })
      assert.strictEqual(yield* code(platform.login("new", Redacted.make("s"))), "ok")
      yield* platform.revokeAll
      assert.deepStrictEqual(yield* platform.sessions, [])
    }))

  it("safeEqual compares whatever the lengths", () => {
    assert.isTrue(Platform.safeEqual("abc", "abc"))
    assert.isFalse(Platform.safeEqual("abc", "abcd"))
    assert.isFalse(Platform.safeEqual("", "a"))
  })
})

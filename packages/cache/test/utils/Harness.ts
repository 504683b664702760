/**
 * What the `TokenService` tests share: the service over a `FakeAuth` with a seeded `Random`, and
 * `TestClock` steps that let forked fibers run first.
 */
import type * as FakeAuth from "@iocm/testing/FakeAuth"
import type { Duration } from "effect"
import { Effect, Layer, Random, Redacted } from "effect"
import * as TestClock from "effect/testing/TestClock"
import type * as RefreshPolicy from "../../src/RefreshPolicy.js"
import * as TokenService from "../../src/TokenService.js"
import * as TokenStore from "../../src/TokenStore.js"

/** Minutes, in milliseconds. */
export const minutes = (n: number) => n * 60_000
/** Seconds, in milliseconds. */
export const seconds = (n: number) => n * 1000

/** Builds the service in the test's scope, with a seeded `Random`. */
export const build = (
  fake: FakeAuth.FakeAuth,
  policy?: RefreshPolicy.Options,
  store: Layer.Layer<TokenStore.TokenStore> = TokenStore.layerMemory
) =>
  TokenService.make(policy).pipe(
    Effect.provide(Layer.merge(fake.layer, store)),
    Random.withSeed("iocm")
  )

/** The access token, revealed. */
export const value = (token: TokenService.AccessToken) => Redacted.value(token.token)

/** A `Random` that always draws `draw`. */
export const fixedRandom = (draw: number): Random.Random => ({
  nextDoubleUnsafe: () => draw,
  nextIntUnsafe: () => Math.floor(draw * Number.MAX_SAFE_INTEGER)
})

/** Lets forked fibers run without moving the clock. */
export const settle = Effect.forEach(Array.from({ length: 20 }), () => Effect.yieldNow, { discard: true })

/**
 * Lets forked fibers reach their next wait, then moves the clock. Effect 4's `TestClock.adjust`
 * does not wait for them (Effect 3's did): a caller resumed by the worker runs before the worker
 * has scheduled its next wake-up.
 */
export const adjust = (duration: Duration.Input) => Effect.andThen(settle, TestClock.adjust(duration))

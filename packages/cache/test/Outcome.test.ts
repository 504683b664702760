/** The outcome of a flight (`internal/outcome.ts`): set once, awaited by many fibers, interruptible waiters. */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Outcome from "../src/internal/outcome.js"

/** Forks `n` waiters of `outcome` and lets each of them reach its wait. */
const waiters = <A, E>(outcome: Outcome.Outcome<A, E>, n: number) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(Array.from({ length: n }), () => Effect.forkChild(outcome.await))
    yield* Effect.yieldNow
    return fibers
  })

describe("Outcome", () => {
  it.effect("every waiter gets the value it is set to, and a later await gets it at once", () =>
    Effect.gen(function*() {
      const outcome = Outcome.makeUnsafe<number, string>()
      const fibers = yield* waiters(outcome, 100)
      assert.isTrue(yield* outcome.done(Exit.succeed(7)))
      const values = yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(values, Array.from({ length: 100 }, () => 7))
      assert.strictEqual(yield* outcome.await, 7)
    }))

  it.effect("every waiter fails with the failure it is set to", () =>
    Effect.gen(function*() {
      const outcome = Outcome.makeUnsafe<number, string>()
      const fibers = yield* waiters(outcome, 3)
      yield* outcome.done(Exit.fail("refused"))
      for (const fiber of fibers) {
        assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail("refused"))
      }
      assert.deepStrictEqual(yield* Effect.exit(outcome.await), Exit.fail("refused"))
    }))

  it.effect("is set once: a second outcome is refused and changes nothing", () =>
    Effect.gen(function*() {
      const outcome = Outcome.makeUnsafe<number, string>()
      assert.isTrue(yield* outcome.done(Exit.succeed(1)))
      assert.isFalse(yield* outcome.done(Exit.succeed(2)))
      assert.isFalse(yield* outcome.interrupt())
      assert.strictEqual(yield* outcome.await, 1)
    }))

  it.effect("an interrupted waiter ends interrupted, and is not resumed when the outcome is set", () =>
    Effect.gen(function*() {
      const outcome = Outcome.makeUnsafe<number, string>()
      let resumedAfterInterruption = false
      const interrupted = yield* Effect.forkChild(
        Effect.tap(outcome.await, () => Effect.sync(() => (resumedAfterInterruption = true)))
      )
      const [other] = yield* waiters(outcome, 1)
      yield* Effect.yieldNow
      yield* Fiber.interrupt(interrupted)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(interrupted)))
      yield* outcome.done(Exit.succeed(3))
      assert.strictEqual(yield* Fiber.join(other!), 3)
      assert.isFalse(resumedAfterInterruption)
    }))

  it.effect("the registrations of waiters that are done are dropped as they pile up; the live ones are kept", () =>
    Effect.gen(function*() {
      const outcome = Outcome.makeUnsafe<number, string>()
      const [live] = yield* waiters(outcome, 1)
      // An attempt that lasts while callers time out and call again.
      for (let i = 0; i < 5000; i++) {
        const [gone] = yield* waiters(outcome, 1)
        yield* Fiber.interrupt(gone!)
      }
      assert.isAtMost(outcome.registrations, 1024)
      yield* outcome.done(Exit.succeed(1))
      assert.strictEqual(yield* Fiber.join(live!), 1)
    }))

  it.effect("interrupt interrupts every waiter", () =>
    Effect.gen(function*() {
      const outcome = Outcome.makeUnsafe<number, string>()
      const fibers = yield* waiters(outcome, 3)
      assert.isTrue(yield* outcome.interrupt())
      for (const fiber of fibers) {
        assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
      }
    }))
})

/**
 * A whole-call bound as cheap as a timer: the call runs in a child fiber, and one plain, unref'd Node
 * timer interrupts it when the time is up.
 *
 * `Effect.timeoutOrElse` races the call against a second fiber sleeping on `Clock`: two forks and a
 * race, about a tenth of a refresh's CPU; this is one fork and a timer. The bound is live time, like the
 * I/O it bounds (the tests that drive `TestClock` never wait for it), and the unref'd timer does not
 * keep the process alive: the request does.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/** Node's timers fire at once beyond this; a deadline that far away is never reached. */
const maxTimerMillis = 2 ** 31 - 1

/**
 * Runs `self` within `millis`: if it is still running then, it is interrupted (which aborts its I/O) and
 * the call fails with `timedOut()`.
 *
 * @internal
 */
export const within = <E2>(millis: number, timedOut: () => E2) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | E2, R> =>
  Effect.flatMap(Effect.forkChild(self, { startImmediately: true }), (fiber) => awaitWithin(fiber, millis, timedOut))

/** Waits for `fiber`, or interrupts it when `millis` have passed; interrupting the wait interrupts the fiber. */
const awaitWithin = <A, E, E2>(
  fiber: Fiber.Fiber<A, E>,
  millis: number,
  timedOut: () => E2
): Effect.Effect<A, E | E2> =>
  Effect.callback<A, E | E2>((resume) => {
    const timer = millis > maxTimerMillis
      ? undefined
      : setTimeout(() => resume(Effect.andThen(Fiber.interrupt(fiber), Effect.fail(timedOut()))), millis).unref()
    fiber.addObserver((exit) => {
      clearTimeout(timer)
      resume(exit)
    })
    return Effect.suspend(() => {
      clearTimeout(timer)
      return Fiber.interrupt(fiber)
    })
  })

/**
 * One deadline per request: a single timer, started when the request is sent, bounds each phase of the
 * request in turn (waiting for the response, then reading its body), so that no phase needs a timer, or
 * a race, of its own.
 *
 * The timer is a plain, unref'd Node timer rather than a fiber sleeping on Effect's `Clock`: such a fiber
 * per request cost about as much as the rest of the client, and it would keep the process alive until the
 * deadline of a response whose body is never read. The request it bounds is I/O that keeps the process
 * alive by itself.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/**
 * The deadline of one request.
 *
 * @internal
 */
export interface Deadline {
  /**
   * Runs `phase` in a child fiber. If the deadline passes first, the phase is interrupted (which aborts the
   * request on the wire) and fails with `timedOut()`. The request is over (see `end`) when the phase fails
   * or is interrupted, or when it succeeds and it was the `last` one; a phase that starts after that is not
   * bounded, as it has nothing left to wait for.
   */
  readonly bound: <A, E, R, E2>(
    phase: Effect.Effect<A, E, R>,
    timedOut: () => E2,
    last: boolean
  ) => Effect.Effect<A, E | E2, R>
  /** Fails with `timedOut()` when the deadline passes; never succeeds. */
  readonly expiry: <E2>(timedOut: () => E2) => Effect.Effect<never, E2>
  /** The request is over: stops the timer. */
  readonly end: () => void
}

/**
 * Starts the timer of a request that must be over within `millis`.
 *
 * @internal
 */
export const start = (millis: number): Effect.Effect<Deadline> => Effect.sync(() => new RequestDeadline(millis))

/** Node's timers fire at once beyond this; a deadline that far away is never reached. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

class RequestDeadline implements Deadline {
  private expired = false
  private ended = false
  /** the phases waiting on the deadline, each with what it does when it passes */
  private readonly waiting = new Set<() => void>()
  private readonly timer: ReturnType<typeof setTimeout> | undefined

  constructor(millis: number) {
    this.timer = millis > MAX_TIMER_MILLIS ? undefined : setTimeout(() => this.expire(), millis).unref()
  }

  private expire() {
    this.expired = true
    for (const expire of this.waiting) expire()
  }

  readonly end = () => {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.timer)
  }

  bound<A, E, R, E2>(phase: Effect.Effect<A, E, R>, timedOut: () => E2, last: boolean): Effect.Effect<A, E | E2, R> {
    return Effect.suspend(() => {
      if (this.expired) return Effect.fail(timedOut())
      if (this.ended) return phase
      return Effect.flatMap(
        Effect.forkChild(phase, { startImmediately: true }),
        (fiber) => this.await(fiber, timedOut, last)
      )
    })
  }

  /** Waits for the phase running in `fiber`, or for the deadline, whichever comes first. */
  private await<A, E, E2>(fiber: Fiber.Fiber<A, E>, timedOut: () => E2, last: boolean): Effect.Effect<A, E | E2> {
    return Effect.callback<A, E | E2>((resume) => {
      const expire = () => resume(Effect.andThen(Fiber.interrupt(fiber), Effect.fail(timedOut())))
      this.waiting.add(expire)
      fiber.addObserver((exit) => {
        this.waiting.delete(expire)
        if (last || !Exit.isSuccess(exit)) this.end()
        resume(exit)
      })
      return Effect.suspend(() => {
        this.waiting.delete(expire)
        this.end()
        return Fiber.interrupt(fiber)
      })
    })
  }

  expiry<E2>(timedOut: () => E2): Effect.Effect<never, E2> {
    return Effect.callback<never, E2>((resume) => {
      if (this.expired) return resume(Effect.fail(timedOut()))
      const expire = () => resume(Effect.fail(timedOut()))
      this.waiting.add(expire)
      return Effect.sync(() => this.waiting.delete(expire))
    })
  }
}

/**
 * The outcome of one flight: set once, by the worker, and awaited by every caller of the flight.
 *
 * A `Deferred` with one difference: a waiter registers without a finalizer. `Deferred.await`
 * gives each waiter a clean-up effect that unregisters it when it is interrupted (a frame on its
 * stack and two allocations); here an interrupted waiter's registration stays in the list until
 * the outcome is set, and is then skipped (the runtime ignores a resume of a fiber that is done).
 * Waking 10 000 waiters costs ≈ 30 % less (`BENCHMARKS.md`, herd). What stays is bounded: a
 * flight's outcome is set at the end of its attempt, so only the waiters interrupted during one
 * attempt are kept, and for no longer than it lasts. A wait that may last indefinitely (a caller
 * waiting for the *next* flight, `Cell.nextFlight`) uses a `Deferred`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

type Waiter<A, E> = (exit: Exit.Exit<A, E>) => void

/** A result set once, awaited by many fibers. */
export class Outcome<A, E> {
  private exit: Exit.Exit<A, E> | undefined = undefined
  private waiters: Array<Waiter<A, E>> | undefined = []

  /** Waits until the outcome is set, then succeeds or fails with it (at once if it is set). */
  readonly await: Effect.Effect<A, E> = Effect.callback<A, E>((resume) => {
    if (this.exit !== undefined) return resume(this.exit)
    this.waiters!.push(resume)
  })

  /** Sets the outcome and resumes every waiter with it, in this step; false when it was already set. */
  doneUnsafe(exit: Exit.Exit<A, E>): boolean {
    if (this.exit !== undefined) return false
    this.exit = exit
    const waiters = this.waiters!
    this.waiters = undefined
    for (let i = 0; i < waiters.length; i++) waiters[i]!(exit)
    return true
  }

  /** `doneUnsafe` as an effect. */
  done(exit: Exit.Exit<A, E>): Effect.Effect<boolean> {
    return Effect.sync(() => this.doneUnsafe(exit))
  }

  /** Sets the outcome to an interruption by the running fiber: its waiters are interrupted. */
  interrupt(): Effect.Effect<boolean> {
    return Effect.withFiber((fiber) => Effect.succeed(this.doneUnsafe(Exit.interrupt(fiber.id))))
  }
}

/** An outcome not set yet. */
export const makeUnsafe = <A, E>(): Outcome<A, E> => new Outcome<A, E>()

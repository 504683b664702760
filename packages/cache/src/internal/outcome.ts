/**
 * The outcome of one flight: set once, by the worker, and awaited by every caller of the flight.
 *
 * A `Deferred` with one difference: a waiter registers without a clean-up effect. `Deferred.await`
 * gives each waiter a finalizer that unregisters it when it is interrupted (a frame on its stack
 * and two allocations); here an interrupted waiter stays registered, and is skipped when the
 * outcome is set (the runtime ignores a resume of a fiber that is done). Waking 10 000 waiters
 * costs ≈ 30 % less (`BENCHMARKS.md`, herd).
 *
 * What stays is bounded: whenever the registrations double (from 1 024 on), those of fibers that
 * are done are dropped, so an attempt that lasts through an outage while callers time out and
 * call again keeps at most twice the waiters still waiting (or 1 024), not every call ever made.
 * A wait that may last indefinitely (a caller waiting for the *next* flight, `Cell.nextFlight`)
 * uses a `Deferred`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

type Resume<A, E> = (exit: Exit.Exit<A, E>) => void

/** The number of registrations from which dead ones are dropped. */
const compactFloor = 1024

/** A result set once, awaited by many fibers. */
export class Outcome<A, E> {
  private exit: Exit.Exit<A, E> | undefined = undefined
  /** The waiters' resumes, and beside each (same index) its fiber: once that is done, the registration is dead. */
  private resumes: Array<Resume<A, E>> | undefined = []
  private fibers: Array<Fiber.Fiber<unknown, unknown> | undefined> = []
  private compactAt = compactFloor

  /** Waits until the outcome is set, then succeeds or fails with it (at once if it is set). */
  readonly await: Effect.Effect<A, E> = Effect.callback<A, E>((resume) => {
    if (this.exit !== undefined) return resume(this.exit)
    const resumes = this.resumes!
    resumes.push(resume)
    this.fibers.push(Fiber.getCurrent())
    if (resumes.length >= this.compactAt) this.compact(resumes)
  })

  /** Sets the outcome and resumes every waiter with it, in this step; false when it was already set. */
  doneUnsafe(exit: Exit.Exit<A, E>): boolean {
    if (this.exit !== undefined) return false
    this.exit = exit
    const resumes = this.resumes!
    this.resumes = undefined
    this.fibers = []
    for (let i = 0; i < resumes.length; i++) resumes[i]!(exit)
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

  /** The number of registrations kept (for tests). */
  get registrations(): number {
    return this.resumes?.length ?? 0
  }

  /** Drops the registrations of fibers that are done; the next compaction is at twice what is left. */
  private compact(resumes: Array<Resume<A, E>>): void {
    const fibers = this.fibers
    let kept = 0
    for (let i = 0; i < resumes.length; i++) {
      const fiber = fibers[i]
      if (fiber === undefined || fiber.pollUnsafe() === undefined) {
        resumes[kept] = resumes[i]!
        fibers[kept++] = fiber
      }
    }
    resumes.length = kept
    fibers.length = kept
    this.compactAt = Math.max(compactFloor, 2 * kept)
  }
}

/** An outcome not set yet. */
export const makeUnsafe = <A, E>(): Outcome<A, E> => new Outcome<A, E>()

/**
 * An attempt inside a `TokenStore`'s lock: entered exactly once, given up when not granted in
 * time, never bypassed while another process of a fleet holds it, left behind when its release
 * does not answer.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { Reason } from "../TokenEvent.js"
import { type TokenStore, TokenStoreError } from "../TokenStore.js"
import * as BoundedStore from "./boundedStore.js"
import * as Report from "./report.js"
import type * as StoreHealth from "./storeHealth.js"

/** What `locked` runs, and how long it waits. */
export interface Locking<A, E> {
  readonly body: Effect.Effect<A, E>
  /** What runs instead of `body` when a fleet's lock is held elsewhere: adopt, or retry later. */
  readonly adoptOnly: Effect.Effect<A, E>
  /** What runs when the lock fails (the store is out of reach): `body` without it, or a wait for the store. */
  readonly unlocked: Effect.Effect<A, E>
  /** The failure of a `body` the lock cut off before it finished (a lease that ran out). */
  readonly cutOff: E
  /** A failed lock is not logged again (a retry of one already logged). */
  readonly quiet: boolean
  readonly timeout: Duration.Duration
  /** The store's own wait for a lock held elsewhere (`TokenStore.Service.lockWait`): a fleet's store. */
  readonly lockWait: Duration.Duration | undefined
  readonly reason: Reason
  readonly known: () => ReadonlyArray<Redacted.Redacted<string>>
  readonly health: StoreHealth.StoreHealth
}

/**
 * Runs `body` inside the store's lock, exactly once. A lock not granted in time (`timeout`, or the
 * store's `lockWait` and `timeout` for a fleet's store) is given up — interrupted, so that `body`
 * can no longer start inside it. Then, as when the lock fails, `unlocked` runs (`body` without the
 * lock, or a wait for the store) — except when a fleet's lock is held by another process: that one
 * is never bypassed, the attempt adopts what the holder committed or fails to be retried
 * (`adoptOnly`). Once `body` is done, a release that does not answer within `timeout` is left
 * behind. A lock that cuts `body` off (a lease that ran out) fails with `cutOff`. The lock runs in
 * a fiber of its own, so that nothing it leaves behind can hold up the service's scope.
 */
export const locked = <A, E>(
  withLock: NonNullable<TokenStore["Service"]["withLock"]>,
  locking: Locking<A, E>
): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    const { body, lockWait, reason, timeout } = locking
    const grantWait = lockWait === undefined ? timeout : Duration.sum(lockWait, timeout)
    let phase: "waiting" | "entered" | "abandoned" = "waiting"
    const entered = Deferred.makeUnsafe<void>()
    const outcome = Deferred.makeUnsafe<Exit.Exit<A, E>>()
    const inside = Effect.suspend(() => {
      if (phase === "abandoned") return Effect.interrupt
      phase = "entered"
      Deferred.doneUnsafe(entered, Effect.void)
      return Effect.onExit(body, (exit) => Deferred.succeed(outcome, exit))
    })
    return Effect.flatMap(Effect.forkDetach(withLock(inside), { startImmediately: true }), (lock) =>
      Effect.gen(function*() {
        yield* Effect.raceFirst(Deferred.await(entered), Effect.timeoutOption(Fiber.await(lock), grantWait))
        if (phase === "waiting") {
          phase = "abandoned"
          lock.interruptUnsafe()
          const lockExit = lock.pollUnsafe()
          if (lockWait !== undefined && heldElsewhere(lockExit)) {
            yield* Report.lockHeld(reason, grantWait)
            return yield* locking.adoptOnly
          }
          if (!locking.quiet) {
            yield* Report.lockFailed(reason, lockExit, timeout, locking.known())
          }
          const error = lockExit !== undefined && Exit.isFailure(lockExit)
            ? Option.getOrUndefined(Cause.findErrorOption(lockExit.cause))
            : undefined
          if (error instanceof TokenStoreError) {
            yield* locking.health.failed(error)
          }
          return yield* locking.unlocked
        }
        const exit = yield* Deferred.await(outcome)
        if ((yield* BoundedStore.awaitAtMost(lock, timeout)) === undefined) {
          yield* Report.unlockTimedOut(timeout)
        }
        return yield* Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? Effect.fail(locking.cutOff) : exit
      }).pipe(Effect.onInterrupt(() =>
        Effect.sync(() => lock.interruptUnsafe())
      )))
  })

/** The lock was not granted in time, or failed because another process holds it (`lockHeld`). */
const heldElsewhere = (lockExit: Exit.Exit<unknown, unknown> | undefined): boolean =>
  lockExit === undefined ||
  (Exit.isFailure(lockExit) &&
    Option.match(Cause.findErrorOption(lockExit.cause), {
      onNone: () => false,
      onSome: (error) => error instanceof TokenStoreError && error.lockHeld === true
    }))

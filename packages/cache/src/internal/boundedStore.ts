/**
 * The calls a `TokenService` makes to its `TokenStore`, each bounded by a timeout in a fiber of its
 * own: a store that does not answer counts as one that failed, a failure is logged (with the tokens
 * the service holds masked, as a store may echo them) and tells the store's health, and the service
 * carries on without the store.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { type StoredToken, type TokenStore, TokenStoreError } from "../TokenStore.js"
import * as InProcessStore from "./inProcessStore.js"
import * as Report from "./report.js"
import type * as StoreHealth from "./storeHealth.js"

/** What the store holds, read within `timeout`; a failure is logged and read as nothing. */
export const readStore = (
  store: TokenStore["Service"],
  timeout: Duration.Duration,
  health: StoreHealth.StoreHealth
): Effect.Effect<StoredToken | undefined> => make(store, timeout, () => [], health).get

/** What a read of a store that failed or did not answer gives. */
export const unanswered: unique symbol = Symbol.for("@iocm/cache/TokenStore/unanswered")

/** The store's calls, bounded (see `make`). */
export interface BoundedStore {
  /** The store's own wait for a lock held elsewhere: set for a store shared by a fleet. */
  readonly lockWait: Duration.Duration | undefined
  readonly read: Effect.Effect<StoredToken | undefined | typeof unanswered>
  /** `read`, a failure not logged: for tries of a store known to be out of reach. */
  readonly probe: Effect.Effect<StoredToken | undefined | typeof unanswered>
  readonly get: Effect.Effect<StoredToken | undefined>
  readonly set: (stored: StoredToken) => Effect.Effect<void>
  /** `set`, telling whether a store that writes by compare-and-set refused it (a failure is logged, as by `set`). */
  readonly commit: (stored: StoredToken) => Effect.Effect<"written" | "refused" | "failed">
  readonly withLock: TokenStore["Service"]["withLock"]
}

/**
 * The store's calls, each bounded by `timeout`; a failure (or a defect) is logged, with the `known`
 * tokens masked, and read as "no store".
 */
export const make = (
  store: TokenStore["Service"],
  timeout: Duration.Duration,
  known: () => ReadonlyArray<Redacted.Redacted<string>>,
  health: StoreHealth.StoreHealth
): BoundedStore => {
  // A store of this process answers at once: bounding it would only cost every refresh a fork.
  const bound = InProcessStore.isInProcess(store)
    ? <A>(self: Effect.Effect<A, TokenStoreError>) => self
    : <A>(self: Effect.Effect<A, TokenStoreError>, operation: "get" | "set") =>
      boundedCall(self, operation, timeout).pipe(
        Effect.tap(() => health.answered),
        Effect.tapError(health.failed)
      )
  const got = bound(store.get, "get").pipe(
    Effect.map((stored): StoredToken | undefined | typeof unanswered => Option.getOrUndefined(stored))
  )
  const read = Effect.catch(got, (error) => Effect.as(Report.storeFailed("read", error, known()), unanswered))
  const written = (stored: StoredToken) => (error: TokenStoreError) =>
    Report.storeFailed("written", error, [...known(), ...tokensOf(stored)])
  const commit = store.commit
  return {
    lockWait: store.lockWait,
    read,
    probe: Effect.orElseSucceed(got, () => unanswered),
    get: Effect.map(read, (stored) => stored === unanswered ? undefined : stored),
    set: (stored) => bound(store.set(stored), "set").pipe(Effect.catch(written(stored))),
    commit: (stored) =>
      commit === undefined
        ? bound(store.set(stored), "set").pipe(
          Effect.as("written" as const),
          Effect.catch((error) => Effect.as(written(stored)(error), "failed" as const))
        )
        : bound(commit(stored), "set").pipe(
          Effect.flatMap((result) =>
            result._tag === "Committed"
              ? Effect.succeed("written" as const)
              : Effect.as(Report.commitRefused(result.generation, result.stored), "refused" as const)
          ),
          Effect.catch((error) => Effect.as(written(stored)(error), "failed" as const))
        ),
    withLock: store.withLock
  }
}

/**
 * `self` in a fiber of its own, waited for at most `timeout`: a call that does not answer by then
 * fails with `TokenStoreError` at once, whether or not it lets itself be interrupted (it is
 * interrupted without waiting for it). A defect counts as a failure.
 */
const boundedCall = <A>(
  self: Effect.Effect<A, TokenStoreError>,
  operation: "get" | "set",
  timeout: Duration.Duration
): Effect.Effect<A, TokenStoreError> =>
  Effect.flatMap(
    Effect.forkDetach(self, { startImmediately: true }),
    (fiber) =>
      Effect.flatMap(awaitAtMost(fiber, timeout), (exit) =>
        exit === undefined
          ? Effect.fail(storeFailure(operation, `no answer within ${Duration.format(timeout)}`))
          : Effect.catchDefect(exit, () => Effect.fail(storeFailure(operation, "failed unexpectedly"))))
  )

/**
 * The exit of `fiber` if it ends within `timeout`, else undefined and the fiber is interrupted in
 * the background; interrupting the wait interrupts the fiber the same way.
 */
export const awaitAtMost = <A, E>(fiber: Fiber.Fiber<A, E>, timeout: Duration.Duration) =>
  Effect.timeoutOption(Fiber.await(fiber), timeout).pipe(
    Effect.map((exit) => {
      if (Option.isSome(exit)) return exit.value
      fiber.interruptUnsafe()
      return undefined
    }),
    Effect.onInterrupt(() => Effect.sync(() => fiber.interruptUnsafe()))
  )

const storeFailure = (operation: "get" | "set" | "lock", description: string) =>
  new TokenStoreError({ operation, description })

/** The access and refresh tokens of a stored state. */
export const tokensOf = (stored: StoredToken | undefined): ReadonlyArray<Redacted.Redacted<string>> =>
  stored === undefined ? [] : [stored.tokens.accessToken, ...Option.toArray(stored.tokens.refreshToken)]

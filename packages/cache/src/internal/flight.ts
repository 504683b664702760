/**
 * One attempt of a `TokenService`: adopt a newer token from the store, or refresh, or log in — and
 * log in once after a refresh token the platform refused — with rotation, inside the store's lock.
 * Every store call is bounded: a store that does not answer counts as one that failed.
 *
 * @internal
 */
import type * as IocmAuth from "@iocm/core/IocmAuth"
import type * as IocmError from "@iocm/core/IocmError"
import { TokenSet } from "@iocm/core/TokenSet"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type { TokenError } from "../TokenError.js"
import type { Operation, Reason } from "../TokenEvent.js"
import { StoredToken, type TokenStore, TokenStoreError } from "../TokenStore.js"
import * as InProcessStore from "./inProcessStore.js"
import * as Report from "./report.js"

/** What a successful attempt obtained. */
export interface Obtained {
  readonly operation: Operation
  /** The reason the request carried: `rejected-token` for the login after a refused refresh token. */
  readonly reason: Reason
  readonly stored: StoredToken
  readonly refreshToken: "rotated" | "kept" | "none"
  /** Taken from the store: another process had already obtained it. */
  readonly adopted: boolean
  readonly sentAt: number
}

/** A failed attempt: its error and the request that failed. */
export class AttemptFailure {
  readonly _tag = "AttemptFailure"
  constructor(readonly operation: Operation, readonly error: TokenError) {}
}

/** What an attempt reads and changes of the service. */
export interface Context {
  readonly auth: IocmAuth.Service
  readonly store: TokenStore["Service"]
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly now: () => number
  /** The token set in force and the highest generation seen. */
  readonly local: Effect.Effect<{ readonly stored: StoredToken | undefined; readonly generation: number }>
  /** The refresh token of `generation` was refused: the service keeps `dropped` instead. */
  readonly dropRefreshToken: (generation: number, dropped: StoredToken) => Effect.Effect<void>
}

/** Runs one attempt for `reason` (see the module's comment). */
export const run = (context: Context, reason: Reason): Effect.Effect<Obtained, AttemptFailure> => {
  const store = boundedStore(context.store, context.policy.storeTimeout)
  const body = attemptBody(context, store, reason)
  return store.withLock === undefined ? body : locked(store.withLock, body, context.policy.storeTimeout, reason)
}

// -- the store, bounded -----------------------------------------------------------------------

/** What the store holds, read within `timeout`; a failure is logged and read as nothing. */
export const readStore = (
  store: TokenStore["Service"],
  timeout: Duration.Duration
): Effect.Effect<StoredToken | undefined> => boundedStore(store, timeout).get

interface BoundedStore {
  readonly get: Effect.Effect<StoredToken | undefined>
  readonly set: (stored: StoredToken) => Effect.Effect<void>
  readonly withLock: TokenStore["Service"]["withLock"]
}

/** The store's calls, each bounded by `timeout`, a failure logged and read as "no store". */
const boundedStore = (store: TokenStore["Service"], timeout: Duration.Duration): BoundedStore => {
  // A store of this process answers at once: bounding it would only cost every refresh a race.
  const bound = InProcessStore.isInProcess(store)
    ? <A>(self: Effect.Effect<A, TokenStoreError>) => self
    : <A>(self: Effect.Effect<A, TokenStoreError>, operation: "get" | "set") =>
      Effect.timeoutOrElse(self, { duration: timeout, orElse: () => Effect.fail(storeTimedOut(operation, timeout)) })
  return {
    get: bound(store.get, "get").pipe(
      Effect.map(Option.getOrUndefined),
      Effect.catch((error) => Effect.as(Report.storeFailed("read", error), undefined))
    ),
    set: (stored) =>
      bound(store.set(stored), "set").pipe(Effect.catch((error) => Report.storeFailed("written", error))),
    withLock: store.withLock
  }
}

const storeTimedOut = (operation: "get" | "set" | "lock", timeout: Duration.Duration) =>
  new TokenStoreError({ operation, description: `no answer within ${Duration.format(timeout)}` })

/**
 * Runs `body` inside the store's lock. A lock not granted within `timeout` is given up and `body`
 * runs without it (as when the lock fails); once `body` is done, a release that does not answer
 * within `timeout` is left behind (interrupted in the background).
 */
const locked = (
  withLock: NonNullable<TokenStore["Service"]["withLock"]>,
  body: Effect.Effect<Obtained, AttemptFailure>,
  timeout: Duration.Duration,
  reason: Reason
): Effect.Effect<Obtained, AttemptFailure> =>
  Effect.gen(function*() {
    const entered = Deferred.makeUnsafe<void>()
    const outcome = Deferred.makeUnsafe<Exit.Exit<Obtained, AttemptFailure>>()
    const inside = Effect.andThen(
      Deferred.succeed(entered, void 0),
      Effect.flatMap(Effect.exit(body), (exit) => Deferred.succeed(outcome, exit))
    )
    const lock = yield* Effect.forkChild(withLock(inside), { startImmediately: true })
    // Wait until `body` runs, the lock fails, or `timeout` passes.
    yield* Effect.raceFirst(Deferred.await(entered), Effect.timeoutOption(Fiber.await(lock), timeout))
    if (!(yield* Deferred.isDone(entered))) {
      const lockExit = lock.pollUnsafe()
      yield* Effect.forkDetach(Fiber.interrupt(lock))
      yield* Report.lockFailed(
        reason,
        lockExit !== undefined && Exit.isFailure(lockExit) ? lockExit.cause : undefined,
        timeout
      )
      return yield* body
    }
    const exit = yield* Deferred.await(outcome)
    yield* Effect.timeoutOption(Fiber.await(lock), timeout).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.andThen(Effect.forkDetach(Fiber.interrupt(lock)), Report.unlockTimedOut(timeout)),
        onSome: () => Effect.void
      }))
    )
    return yield* exit
  })

// -- the attempt ------------------------------------------------------------------------------

const attemptBody = (context: Context, store: BoundedStore, reason: Reason): Effect.Effect<Obtained, AttemptFailure> =>
  Effect.gen(function*() {
    const { policy, now } = context
    const { stored: local, generation: seen } = yield* context.local
    const shared = yield* store.get
    const sentAt = now()
    // Another process sharing the store may already have a newer token: adopt it.
    if (
      shared !== undefined && shared.generation > Math.max(seen, local?.generation ?? 0) &&
      sentAt < shared.tokens.expiresAt - Duration.toMillis(policy.forcedWindow)
    ) {
      return { operation: "refresh", reason, stored: shared, refreshToken: "kept", adopted: true, sentAt } as const
    }
    const base = shared !== undefined && shared.generation > (local?.generation ?? 0) ? shared : local
    const generation = Math.max(seen, base?.generation ?? 0) + 1
    const done = (operation: Operation, used: Reason) => (fresh: TokenSet) => {
      const rotated = rotate(fresh, operation === "refresh" ? base?.tokens : undefined)
      const stored = new StoredToken({ tokens: rotated.tokens, generation }, { disableChecks: true })
      const obtained: Obtained = {
        operation,
        reason: used,
        stored,
        refreshToken: rotated.refreshToken,
        adopted: false,
        sentAt
      }
      return Effect.as(store.set(stored), obtained)
    }
    const login = (used: Reason, refreshToken?: "missing" | "expired") =>
      Effect.flatMap(
        call("login", used, context.auth.login, refreshToken === undefined ? {} : { refreshToken }, now),
        done("login", used)
      )
    const refreshToken = base?.tokens.refreshToken ?? Option.none<Redacted.Redacted<string>>()
    if (base === undefined) return yield* login(reason)
    if (Option.isNone(refreshToken)) return yield* login(reason, "missing")
    if (sentAt >= Option.getOrElse(base.tokens.refreshExpiresAt, () => 0)) return yield* login(reason, "expired")
    const refreshed = yield* call("refresh", reason, context.auth.refresh(refreshToken.value), {}, now).pipe(
      Effect.map(done("refresh", reason)),
      Effect.catch((failure) => Effect.succeed(failure))
    )
    if (!(refreshed instanceof AttemptFailure)) return yield* refreshed
    const classification = RefreshPolicy.classify(refreshed.error, { operation: "refresh", attempt: 1 })
    if (classification !== "relogin") return yield* Effect.fail(refreshed)
    // Drop the refused refresh token (in the store too), then log in — once.
    const dropped = withoutRefreshToken(base)
    yield* store.set(dropped)
    yield* context.dropRefreshToken(base.generation, dropped)
    yield* Report.refreshTokenRefused(reason, base.generation, refreshed.error)
    return yield* login("rejected-token")
  })

/** One login or refresh request, with its span and metrics. */
const call = (
  operation: Operation,
  reason: Reason,
  request: Effect.Effect<TokenSet, IocmError.RefreshError>,
  attributes: Record<string, unknown>,
  now: () => number
): Effect.Effect<TokenSet, AttemptFailure> =>
  Effect.suspend(() => {
    const startedAt = now()
    return Effect.onExit(
      request,
      (exit) => Report.requestEnded(operation, reason, exit, (now() - startedAt) / 1000)
    ).pipe(
      Effect.mapError((error) => new AttemptFailure(operation, error as TokenError)),
      Effect.withSpan(`iocm.token.${operation}`, { attributes: { reason, ...attributes } })
    )
  })

/** Keeps the old refresh token (with its own expiry) when a response carries none. */
const rotate = (
  fresh: TokenSet,
  base: TokenSet | undefined
): { readonly tokens: TokenSet; readonly refreshToken: "rotated" | "kept" | "none" } => {
  if (Option.isSome(fresh.refreshToken)) return { tokens: fresh, refreshToken: "rotated" }
  if (base === undefined || Option.isNone(base.refreshToken) || Option.isNone(base.refreshExpiresAt)) {
    return { tokens: fresh, refreshToken: "none" }
  }
  const lifetime = base.refreshExpiresAt.value - fresh.issuedAt
  if (lifetime <= 0) return { tokens: fresh, refreshToken: "none" }
  // Fields of valid token sets and a positive lifetime: no re-validation (it compiles a parser per call).
  return {
    tokens: new TokenSet({
      accessToken: fresh.accessToken,
      refreshToken: base.refreshToken,
      tokenType: fresh.tokenType,
      scope: fresh.scope,
      expiresIn: fresh.expiresIn,
      issuedAt: fresh.issuedAt,
      refreshTokenLifetimeMillis: lifetime
    }, { disableChecks: true }),
    refreshToken: "kept"
  }
}

/** The stored state without its refresh token (valid by construction, so not re-validated). */
const withoutRefreshToken = (stored: StoredToken): StoredToken =>
  new StoredToken({
    generation: stored.generation,
    tokens: new TokenSet({ ...stored.tokens, refreshToken: Option.none() }, { disableChecks: true })
  }, { disableChecks: true })

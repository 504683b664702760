/**
 * One attempt of a `TokenService`: adopt a newer token from the store, or refresh, or log in — and
 * log in once after a refresh token the platform refused — with rotation, inside the store's lock.
 * Every store call is bounded (`boundedStore.ts`); the lock is `lock.ts`.
 *
 * @internal
 */
import type * as IocmAuth from "@iocm/core/IocmAuth"
import * as IocmError from "@iocm/core/IocmError"
import { TokenSet } from "@iocm/core/TokenSet"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type { TokenError } from "../TokenError.js"
import type { Operation, Reason } from "../TokenEvent.js"
import { StoredToken, type TokenStore } from "../TokenStore.js"
import * as BoundedStore from "./boundedStore.js"
import * as Lock from "./lock.js"
import * as Report from "./report.js"
import type * as StoreHealth from "./storeHealth.js"

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
  /** What the store's answers and failures tell of its health (see `storeHealth.ts`). */
  readonly health: StoreHealth.StoreHealth
  /** The tokens the service holds, masked in whatever a store says when it fails (it may echo them). */
  readonly known: () => ReadonlyArray<Redacted.Redacted<string>>
  /** The refresh token of `generation` was refused: the service keeps `dropped` instead. */
  readonly dropRefreshToken: (generation: number, dropped: StoredToken) => Effect.Effect<void>
}

/** Runs one attempt for `reason` (see the module's comment). */
export const run = (context: Context, reason: Reason): Effect.Effect<Obtained, AttemptFailure> => {
  const store = BoundedStore.make(context.store, context.policy.storeTimeout, context.known, context.health)
  const body = attemptBody(context, store, reason)
  const withLock = store.withLock
  if (withLock === undefined) return body
  const lockedAttempt = (quiet: boolean): Effect.Effect<Obtained, AttemptFailure> =>
    Lock.locked(withLock, {
      body,
      cutOff,
      adoptOnly: adoptOrRetry(context, store, reason),
      unlocked: Effect.flatMap(deferUntil(context, store, reason), (until) =>
        until === undefined
          ? body
          : Effect.andThen(
            quiet ? Effect.void : Report.refreshDeferred(reason, until),
            Effect.andThen(Effect.sleep(storeRetryPause), lockedAttempt(true))
          )),
      quiet,
      timeout: context.policy.storeTimeout,
      lockWait: context.store.lockWait,
      reason,
      known: context.known,
      health: context.health
    })
  return lockedAttempt(false)
}

/** The pause between two tries of a fleet's store that is out of reach. */
const storeRetryPause = Duration.millis(250)

/**
 * How long a proactive refresh may wait for a fleet's store that is out of reach: until the forced
 * window of the token in force, which is served meanwhile — then this process refreshes on its own.
 * Undefined when it may not wait (no fleet's store, another reason, no token, too late): waiting
 * saves the fleet the ping-pong of refreshes each process would make without the store.
 */
const deferUntil = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason
): Effect.Effect<number | undefined> =>
  Effect.map(context.local, ({ stored }) => {
    if (store.lockWait === undefined || reason !== "proactive" || stored === undefined) return undefined
    const { forcedAt } = RefreshPolicy.windows(context.policy, stored.tokens, 0)
    return context.now() + Duration.toMillis(storeRetryPause) < forcedAt ? forcedAt : undefined
  })

/** The failure of an attempt the store's lock cut off before it finished. */
const cutOff = new AttemptFailure(
  "login",
  new IocmError.TransportError({
    code: "StoreLock",
    description: "The token store's lock ended the attempt before it finished."
  })
)

// -- the attempt ------------------------------------------------------------------------------

/** The token another process sharing the store obtained, if it is newer and still worth adopting. */
const adoptable = (
  context: Context,
  local: StoredToken | undefined,
  seen: number,
  shared: StoredToken | undefined,
  reason: Reason,
  sentAt: number
): Obtained | undefined =>
  shared !== undefined && shared.generation > Math.max(seen, local?.generation ?? 0) &&
    sentAt < RefreshPolicy.windows(context.policy, shared.tokens, 0).forcedAt
    ? { operation: "refresh", reason, stored: shared, refreshToken: "kept", adopted: true, sentAt }
    : undefined

/**
 * Instead of an attempt, when another process holds a fleet's lock: adopt what it committed, or
 * fail (retryable) so that the worker tries again after a back-off. Never calls the platform.
 */
const adoptOrRetry = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason
): Effect.Effect<Obtained, AttemptFailure> =>
  Effect.gen(function*() {
    const { stored: local, generation: seen } = yield* context.local
    const obtained = adoptable(context, local, seen, yield* store.get, reason, context.now())
    return obtained ?? (yield* Effect.fail(lockHeldElsewhere))
  })

/** The failure of an attempt that found a fleet's lock held by another process, and nothing to adopt. */
const lockHeldElsewhere = new AttemptFailure(
  "refresh",
  new IocmError.TransportError({
    code: "StoreLock",
    description: "Another process holds the token store's lock and has not committed a token yet; retrying."
  })
)

/** The reasons of a business call the platform refused a token on. */
const refusedOnCall: ReadonlySet<Reason> = new Set(["1010005", "100002"])

/**
 * Whether a token refused on a business call should wait before it is replaced: on a fleet's store
 * (one that declares `lockWait`), a token obtained less than `invalidationCooldown` ago is not
 * replaced on a refusal, so that one process whose calls the platform refuses (a wrong app key, a
 * clock far off) cannot drive the whole fleet into a refresh loop. The attempt is retried instead.
 */
const coolingDown = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason,
  base: StoredToken | undefined,
  sentAt: number
): boolean =>
  store.lockWait !== undefined && refusedOnCall.has(reason) && base !== undefined &&
  sentAt - base.tokens.issuedAt < Duration.toMillis(context.policy.invalidationCooldown)

/** The failure of an attempt that waits out the invalidation cooldown (see `coolingDown`). */
const coolDown = new AttemptFailure(
  "refresh",
  new IocmError.TransportError({
    code: "Cooldown",
    description:
      "The fleet's token was obtained moments ago and the platform refused it on a business call; waiting before replacing it."
  })
)

const attemptBody = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason
): Effect.Effect<Obtained, AttemptFailure> =>
  Effect.gen(function*() {
    const { now } = context
    const { stored: local, generation: seen } = yield* context.local
    const shared = yield* store.get
    const sentAt = now()
    // Another process sharing the store may already have a newer token: adopt it.
    const adopted = adoptable(context, local, seen, shared, reason, sentAt)
    if (adopted !== undefined) return adopted
    const base = shared !== undefined && shared.generation > (local?.generation ?? 0) ? shared : local
    if (coolingDown(context, store, reason, base, sentAt)) return yield* Effect.fail(coolDown)
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
      return Effect.flatMap(
        store.commit(stored),
        (written) => written === "refused" ? adoptCommitted(context, store, obtained) : Effect.succeed(obtained)
      )
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
    // Refused: another process sharing the store has probably rotated it. Take what it committed…
    const after = yield* store.read
    const moved = after === BoundedStore.unanswered
      ? yield* awaitStore(context, store, { local, seen, base, reason })
      : adoptable(context, local, seen, after, reason, now())
    if (moved !== undefined) return moved
    // …or, if the store has not moved, drop the refused refresh token (in the store too) and log in — once.
    const dropped = withoutRefreshToken(base)
    yield* store.set(dropped)
    yield* context.dropRefreshToken(base.generation, dropped)
    yield* Report.refreshTokenRefused(reason, base.generation, refreshed.error)
    return yield* login("rejected-token")
  })

/**
 * The store refused this process's write (see `TokenStore.Service.commit`): another process
 * committed that generation or a newer one while this one's request was on the wire, so the
 * platform holds that one's token. It is adopted, when the store gives it and it is still valid.
 */
const adoptCommitted = (
  context: Context,
  store: BoundedStore.BoundedStore,
  obtained: Obtained
): Effect.Effect<Obtained> =>
  Effect.map(store.get, (shared) =>
    shared !== undefined && shared.generation >= obtained.stored.generation &&
      context.now() < RefreshPolicy.windows(context.policy, shared.tokens, 0).forcedAt
      ? { ...obtained, operation: "refresh", stored: shared, refreshToken: "kept", adopted: true }
      : obtained)

/** What `awaitStore` needs of the attempt. */
interface Refused {
  readonly local: StoredToken | undefined
  readonly seen: number
  /** The token set whose refresh token was refused. */
  readonly base: StoredToken
  readonly reason: Reason
}

/**
 * After a refresh token refused while a fleet's store is out of reach: a sibling has probably
 * rotated it, and logging in now would invalidate the token it holds (and, with several processes
 * refused at once, each other's). So the store is waited for, up to its `lockWait`: what the sibling
 * commits (or seeds again, after a restart) is adopted; a store back without it fails the attempt
 * (retried under the lock, with the refused refresh token dropped); a store still out of reach then
 * gives `undefined`, and the attempt logs in on its own. Not for a store private to the process.
 */
const awaitStore = (
  context: Context,
  store: BoundedStore.BoundedStore,
  refused: Refused
): Effect.Effect<Obtained | undefined, AttemptFailure> =>
  Effect.gen(function*() {
    const wait = store.lockWait
    if (wait === undefined) return undefined
    yield* Report.awaitingStore(refused.reason, refused.base.generation, wait)
    const deadline = context.now() + Duration.toMillis(wait)
    let answeredAt: number | undefined
    while (context.now() < deadline) {
      yield* Effect.sleep(storeRetryPause)
      const shared = yield* store.probe
      if (shared === BoundedStore.unanswered) continue
      const obtained = adoptable(context, refused.local, refused.seen, shared, refused.reason, context.now())
      if (obtained !== undefined) return obtained
      // Back, but without a newer token: give the sibling that rotated it time to seed it again.
      answeredAt ??= context.now()
      if (context.now() - answeredAt >= Duration.toMillis(reseedGrace)) {
        yield* context.dropRefreshToken(refused.base.generation, withoutRefreshToken(refused.base))
        return yield* Effect.fail(storeBack)
      }
    }
    return undefined
  })

/** How long a store back from an outage is given for the process that holds the newest token to write it again. */
const reseedGrace = Duration.seconds(2)

/** The failure of an attempt that found a fleet's store back without a newer token: retried under its lock. */
const storeBack = new AttemptFailure(
  "refresh",
  new IocmError.TransportError({
    code: "StoreLock",
    description: "The token store is back without a newer token; retrying under its lock."
  })
)

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

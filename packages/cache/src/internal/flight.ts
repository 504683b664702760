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
  /** Whether a caller needs the new token now (`TokenState.urgent`): the attempt may not wait. */
  readonly urgent: () => boolean
  /** Why the token in force was invalidated, if it was (`TokenState.State.revoked`). */
  readonly revoked: () => Reason | undefined
}

/** Runs one attempt for `reason` (see the module's comment). */
export const run = (context: Context, reason: Reason): Effect.Effect<Obtained, AttemptFailure> => {
  const store = BoundedStore.make(context.store, context.policy.storeTimeout, context.known, context.health)
  return store.withLock === undefined
    ? attemptBody(context, store, reason, "locked")
    : lockedOrDeferred(context, store, store.withLock, reason)
}

/** The pause between two tries of a fleet's store that is out of reach. */
const storeRetryPause = Duration.millis(250)

/** What the lock gives when it fails because the store is out of reach (see `lockedOrDeferred`). */
const storeDown: unique symbol = Symbol.for("@iocm/cache/Flight/storeDown")

/**
 * Whether an attempt runs under a fleet's lock (or on a store private to the process, which has
 * none), or alone: without the lock, because the store was out of reach.
 */
type Lease = "locked" | "alone"

/**
 * The attempt inside the store's lock. When the lock fails because the store is out of reach, an
 * attempt that may wait (see `Deferral`) tries the lock again every `storeRetryPause` until its
 * deadline (a proactive refresh: only while nobody needs the new token, `Context.urgent`), then
 * runs alone; any other attempt runs alone at once.
 */
const lockedOrDeferred = (
  context: Context,
  store: BoundedStore.BoundedStore,
  withLock: NonNullable<TokenStore["Service"]["withLock"]>,
  reason: Reason
): Effect.Effect<Obtained, AttemptFailure> =>
  Effect.gen(function*() {
    const body = attemptBody(context, store, reason, "locked")
    let deferral = yield* deferralOf(context, store, reason)
    // What the wait is told for: the attempt's reason, or the refusal on a call that extended it.
    let waitingFor = reason
    let deferring = false
    while (true) {
      const outcome = yield* Lock.locked<Obtained | typeof storeDown, AttemptFailure>(withLock, {
        body,
        cutOff,
        adoptOnly: adoptOrRetry(context, store, reason),
        unlocked: Effect.succeed(storeDown),
        // An attempt that may wait says so instead of "running without it".
        quiet: deferral !== undefined,
        timeout: context.policy.storeTimeout,
        lockWait: context.store.lockWait,
        reason,
        known: context.known,
        health: context.health
      })
      if (outcome !== storeDown) return outcome
      if (deferral?.yieldsToCallers === true && context.urgent()) {
        // A caller needs the new token. If the token was refused on a call, a sibling has most
        // likely replaced it: wait for the store as for such a refusal (see `deferralOf`).
        const revoked = context.revoked()
        deferral = store.lockWait !== undefined && revoked !== undefined && refusedOnCall.has(revoked)
          ? refusalDeferral(context, store.lockWait)
          : undefined
        waitingFor = revoked ?? reason
        deferring = false
      }
      const over = context.now() + Duration.toMillis(storeRetryPause) >= (deferral?.until ?? 0)
      if (deferral === undefined || over) return yield* attemptBody(context, store, reason, "alone")
      if (!deferring) yield* Report.refreshDeferred(waitingFor, deferral.until, deferral.yieldsToCallers)
      deferring = true
      yield* Effect.sleep(storeRetryPause)
    }
  })

/** How long an attempt may wait for a fleet's store that is out of reach (see `deferralOf`). */
interface Deferral {
  readonly until: number
  /** A caller that needs the new token ends the wait (`Context.urgent`). */
  readonly yieldsToCallers: boolean
}

/**
 * Whether, and until when, an attempt may wait for a fleet's store that is out of reach — so that
 * the fleet does not make, process by process, the refreshes it would make once under the lease:
 *
 * - a proactive refresh, serving the token in force meanwhile: until the token's forced window,
 *   when callers would start waiting for it, and no longer once a caller needs the new token —
 *   unless the token was refused on a call meanwhile, which is waited out as below;
 * - a token the platform refused on a business call (1010005, 100002): in a fleet, a sibling has
 *   most likely replaced it, and refreshing alone would have this process's refresh token refused
 *   too; so the store is waited for, for as long as callers wait for a token (`coldStartWait`, at
 *   most the store's `lockWait`), and the sibling's token adopted from it.
 *
 * Undefined for any other attempt, or a store private to the process. (The processes of a fleet
 * that waited then refresh alone at about the same time: one succeeds, and the others, refused,
 * wait for the store in `awaitStore` rather than logging in.)
 */
const deferralOf = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason
): Effect.Effect<Deferral | undefined> =>
  Effect.map(context.local, ({ stored }) => {
    if (store.lockWait === undefined || stored === undefined) return undefined
    if (reason === "proactive") {
      return { until: RefreshPolicy.windows(context.policy, stored.tokens, 0).forcedAt, yieldsToCallers: true }
    }
    return refusedOnCall.has(reason) ? refusalDeferral(context, store.lockWait) : undefined
  })

/** The wait for a fleet's store after a token was refused on a call: as long as callers wait for a token, at most `lockWait`. */
const refusalDeferral = (context: Context, lockWait: Duration.Duration): Deferral => ({
  until: context.now() + Duration.toMillis(Duration.min(lockWait, context.policy.coldStartWait)),
  yieldsToCallers: false
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
 * (one that declares `lockWait`), a token obtained less than its cooldown ago is not replaced on a
 * refusal, so that one process whose calls the platform refuses (a wrong app key, a clock far off)
 * cannot drive the whole fleet into a refresh loop. The attempt is retried instead.
 */
const coolingDown = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason,
  base: StoredToken | undefined,
  sentAt: number
): boolean =>
  store.lockWait !== undefined && refusedOnCall.has(reason) && base !== undefined &&
  sentAt - base.tokens.issuedAt < cooldownOf(context.policy, base.tokens)

/**
 * How long a fleet's token is kept when refused on a business call: `invalidationCooldown`, but
 * at most a tenth of the token's lifetime, so that a short-lived token refused for good (a login
 * from outside the fleet) is not left refused for most of its life.
 */
const cooldownOf = (policy: RefreshPolicy.RefreshPolicy, tokens: TokenSet): number =>
  Math.min(Duration.toMillis(policy.invalidationCooldown), (tokens.expiresAt - tokens.issuedAt) / 10)

/** The failure of an attempt that waits out the invalidation cooldown (see `coolingDown`). */
const coolDown = new AttemptFailure(
  "refresh",
  new IocmError.TransportError({
    code: "Cooldown",
    description:
      "The fleet's token was obtained moments ago and the platform refused it on a business call; waiting before replacing it."
  })
)

/** One attempt: adopt a newer stored token, or refresh (or log in) and commit what it gives. */
const attemptBody = (
  context: Context,
  store: BoundedStore.BoundedStore,
  reason: Reason,
  lease: Lease
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
    const committed = after === BoundedStore.unanswered
      ? undefined
      : adoptable(context, local, seen, after, reason, now())
    if (committed !== undefined) return committed
    // …or, on a store found empty (restarted) under the lock, let the lock go at once: a sibling
    // holding the newest token may be waiting for it to commit that token, which the retry adopts
    // (or, if nobody has, logs in — the refused refresh token is dropped)…
    if (after === undefined && lease === "locked" && store.lockWait !== undefined) {
      return yield* retryWithout(context, base, storeEmptied)
    }
    // …or wait for it, without the lock: with the store out of reach, empty, or back only now that
    // this attempt runs alone (a login now would replace what the lease holder is about to commit)…
    const moved = after === BoundedStore.unanswered || lease === "alone"
      ? yield* awaitStore(context, store, { local, seen, base, reason })
      : undefined
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
 * committed that generation or a newer one meanwhile. The platform honours the token it issued
 * last: the store's is adopted if it was issued no earlier than this one (this process's lease ran
 * out while its request was on the wire, and another obtained a token after it); this one, issued
 * later, is written again above the store's generation — once: a second refusal adopts the store's.
 */
const adoptCommitted = (
  context: Context,
  store: BoundedStore.BoundedStore,
  obtained: Obtained
): Effect.Effect<Obtained> =>
  Effect.gen(function*() {
    const shared = yield* store.get
    if (shared === undefined) return obtained
    if (shared.tokens.issuedAt < obtained.stored.tokens.issuedAt) {
      const again = new StoredToken({ tokens: obtained.stored.tokens, generation: shared.generation + 1 }, {
        disableChecks: true
      })
      if ((yield* store.commit(again)) !== "refused") return { ...obtained, stored: again }
      return yield* adoptStored(context, obtained, yield* store.get)
    }
    return yield* adoptStored(context, obtained, shared)
  })

/** `shared`, adopted in place of what the attempt `obtained`, when it is still worth adopting. */
const adoptStored = (context: Context, obtained: Obtained, shared: StoredToken | undefined): Effect.Effect<Obtained> =>
  Effect.succeed(
    shared !== undefined && context.now() < RefreshPolicy.windows(context.policy, shared.tokens, 0).forcedAt
      ? { ...obtained, operation: "refresh", stored: shared, refreshToken: "kept", adopted: true }
      : obtained
  )

/** What `awaitStore` needs of the attempt. */
interface Refused {
  readonly local: StoredToken | undefined
  readonly seen: number
  /** The token set whose refresh token was refused. */
  readonly base: StoredToken
  readonly reason: Reason
}

/**
 * After a refresh token refused while a fleet's store is out of reach, or in an attempt made
 * without its lock as the store comes back: a sibling has probably rotated it, and
 * logging in now would invalidate the token it holds (and, with several processes refused at once,
 * each other's). So the store is waited for, up to its `lockWait` (and at most the
 * policy's `coldStartWait`, which bounds how long callers wait for a token): what the sibling
 * commits (or seeds again, after a restart) is adopted; a store back without it fails the attempt
 * (retried under the lock, with the refused refresh token dropped: the lock is let go meanwhile, so
 * that a sibling that holds a newer token and waits for the lock can commit it first); a store
 * still out of reach then gives `undefined`, and the attempt logs in on its own. Not for a store
 * private to the process.
 */
const awaitStore = (
  context: Context,
  store: BoundedStore.BoundedStore,
  refused: Refused
): Effect.Effect<Obtained | undefined, AttemptFailure> =>
  Effect.gen(function*() {
    if (store.lockWait === undefined) return undefined
    // Callers may be waiting on this attempt: no longer than they would wait for a first token.
    const wait = Duration.min(store.lockWait, context.policy.coldStartWait)
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
        return yield* retryWithout(context, refused.base, storeBack)
      }
    }
    return undefined
  })

/** Drops `base`'s refused refresh token from the service and fails with `failure`: the retry, under the lock, adopts or logs in. */
const retryWithout = (
  context: Context,
  base: StoredToken,
  failure: AttemptFailure
): Effect.Effect<never, AttemptFailure> =>
  Effect.andThen(context.dropRefreshToken(base.generation, withoutRefreshToken(base)), Effect.fail(failure))

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

/** The failure of an attempt whose refresh token was refused on a store found empty: retried under its lock. */
const storeEmptied = new AttemptFailure(
  "refresh",
  new IocmError.TransportError({
    code: "StoreLock",
    description:
      "The refresh token was refused and the token store was found empty (restarted); retrying under its lock, to adopt the token another process writes back."
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

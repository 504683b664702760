/**
 * The token state of a `TokenService` and its transitions: pure functions
 * `(State, now, …) → [Decision, State]`, driven by one `Ref.modify` each in `tokenService.ts`.
 * No fiber, no clock, no randomness here: times and the windows of a new token come in as
 * arguments, and a flight is whatever value the caller's `request` builds (an `Outcome` in the
 * service, a plain record in the tests).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Redacted from "effect/Redacted"
import type * as RefreshPolicy from "../RefreshPolicy.js"
import type { TokenError } from "../TokenError.js"
import type { Reason } from "../TokenEvent.js"
import type { AccessToken } from "../TokenService.js"
import type { StoredToken } from "../TokenStore.js"

/** The token set in force, the access token callers receive, and its windows. */
export interface Entry {
  readonly stored: StoredToken
  readonly access: AccessToken
  readonly windows: RefreshPolicy.Windows
}

/** A login or refresh requested (and soon in progress): what callers join. */
export interface Flight {
  readonly reason: Reason
}

/** Builds the flight a transition registers. */
export type Request<F extends Flight> = (reason: Reason) => F

/** The back-off after a failed attempt: no flight starts on demand before `until`. */
export interface Hold {
  readonly since: number
  readonly until: number
  /**
   * What callers without a valid token get meanwhile; absent for the back-off after a token that
   * arrived already due for refresh (such callers start the next attempt).
   */
  readonly cause: Cause.Cause<TokenError> | undefined
  /** A caller has already cut this back-off short (once per back-off). */
  readonly shortened: boolean
}

/** The state of a token service. */
export interface State<F extends Flight = Flight> {
  /** The token set in force (kept after `invalidate` for its refresh token). */
  readonly entry: Entry | undefined
  /** Why the access token of `entry` was invalidated (`invalidate`'s reason), if it was. */
  readonly revoked: Reason | undefined
  /** The flight requested or in progress. */
  readonly flight: F | undefined
  /**
   * A caller waits on the flight in progress for a new token — an explicit `refresh`, or a `get`
   * that found no fresh token, joined it: the flight may not be put off (see `urgent`).
   */
  readonly awaited: boolean
  readonly hold: Hold | undefined
  /** An error retrying cannot fix: no attempt starts until `refresh` is called. */
  readonly terminal: TokenError | undefined
  /** Consecutive failed attempts. */
  readonly failures: number
  /** The consecutive failed attempts that failed with the same error (see `Failure.streakOf`). */
  readonly streak: { readonly of: string; readonly count: number } | undefined
  /** Highest generation seen. */
  readonly generation: number
  /** The service's scope has closed: no flight starts any more. */
  readonly closed: boolean
}

/** The state of a service that has no token yet, or that adopted `entry` from the store. */
export const initial = <F extends Flight>(entry?: Entry | undefined): State<F> => ({
  entry,
  revoked: undefined,
  flight: undefined,
  awaited: false,
  hold: undefined,
  terminal: undefined,
  failures: 0,
  streak: undefined,
  generation: entry?.stored.generation ?? 0,
  closed: false
})

/** What a caller of `get` does. */
export type GetDecision<F extends Flight> =
  | { readonly _tag: "Hit"; readonly access: AccessToken }
  /** Await `flight`; `started` when this call registered it, so the worker must be woken. */
  | { readonly _tag: "Join"; readonly flight: F; readonly started: boolean }
  /** Fail with `cause`; the next attempt is due at `retryAt` when one is scheduled. */
  | { readonly _tag: "Fail"; readonly cause: Cause.Cause<TokenError>; readonly retryAt: number | undefined }
  /** The service has closed and has no valid token. */
  | { readonly _tag: "Closed" }

/** The access token of `state`, if callers may use it at `now`. */
export const valid = (state: State<Flight>, now: number): AccessToken | undefined =>
  state.entry !== undefined && state.revoked === undefined && now < state.entry.windows.expiresAt
    ? state.entry.access
    : undefined

/**
 * The part of `get` that never changes the state, read from it once per change so that the read
 * path needs no `Ref.modify`: before `freshUntil`, `access`; otherwise the flight to join, if any.
 * A token is fresh before its forced window, and until expiry once attempts have stopped for good.
 */
export interface ReadView<F extends Flight> {
  readonly freshUntil: number
  readonly access: AccessToken | undefined
  readonly flight: F | undefined
}

/** The read view of `state` (see `ReadView`). */
export const readView = <F extends Flight>(state: State<F>): ReadView<F> => {
  const { entry } = state
  if (entry === undefined || state.revoked !== undefined) {
    return { freshUntil: Number.NEGATIVE_INFINITY, access: undefined, flight: state.flight }
  }
  const stopped = state.terminal !== undefined || state.closed
  return {
    freshUntil: stopped ? entry.windows.expiresAt : entry.windows.forcedAt,
    access: entry.access,
    flight: state.flight
  }
}

/** Registers a flight for `reason` (the state must have none); a caller's flight is awaited. */
const withFlight = <F extends Flight>(state: State<F>, request: Request<F>, reason: Reason): [F, State<F>] => {
  const flight = request(reason)
  return [flight, { ...state, flight, awaited: reason !== "proactive" }]
}

/**
 * Whether the flight in progress has to obtain a token now: the token was invalidated, or a caller
 * waits on it. A proactive refresh that nobody waits for may wait for a fleet's store instead.
 */
export const urgent = (state: State<Flight>): boolean => state.revoked !== undefined || state.awaited

/**
 * A caller's `get` at `now`. Without a valid token it joins the flight in progress or starts one;
 * during a back-off it fails with the back-off's cause, unless the back-off began at least
 * `shortenAfterMillis` ago and no caller has cut it short yet (then it starts the retry now).
 */
export const get = <F extends Flight>(
  state: State<F>,
  now: number,
  request: Request<F>,
  shortenAfterMillis: number
): readonly [GetDecision<F>, State<F>] => {
  const view = readView(state)
  if (view.access !== undefined && now < view.freshUntil) return [{ _tag: "Hit", access: view.access }, state]
  if (view.flight !== undefined) {
    return [{ _tag: "Join", flight: view.flight, started: false }, state.awaited ? state : { ...state, awaited: true }]
  }
  const access = valid(state, now)
  if (state.terminal !== undefined) {
    return access !== undefined
      ? [{ _tag: "Hit", access }, state]
      : [{ _tag: "Fail", cause: Cause.fail(state.terminal), retryAt: undefined }, state]
  }
  if (state.closed) return [access !== undefined ? { _tag: "Hit", access } : { _tag: "Closed" }, state]
  const { hold } = state
  let from = state
  if (hold !== undefined && now < hold.until) {
    if (access !== undefined) return [{ _tag: "Hit", access }, state]
    if (hold.cause !== undefined) {
      if (hold.shortened || now - hold.since < shortenAfterMillis) {
        return [{ _tag: "Fail", cause: hold.cause, retryAt: hold.until }, state]
      }
      from = { ...state, hold: { ...hold, shortened: true } }
    }
  }
  const [flight, next] = withFlight(from, request, state.entry === undefined ? "cold" : "forced")
  return [{ _tag: "Join", flight, started: true }, next]
}

/** `refresh`: clears a terminal state, a back-off and the count of failures, and joins the flight in progress or starts one. */
export const refresh = <F extends Flight>(
  state: State<F>,
  request: Request<F>
): readonly [{ readonly flight: F; readonly started: boolean } | undefined, State<F>] => {
  if (state.closed) return [undefined, state]
  const cleared: State<F> = { ...state, terminal: undefined, hold: undefined, failures: 0, streak: undefined }
  if (state.flight !== undefined) return [{ flight: state.flight, started: false }, { ...cleared, awaited: true }]
  const [flight, next] = withFlight(cleared, request, "explicit")
  return [{ flight, started: true }, next]
}

/**
 * `invalidate(generation)`: drops the access token if it is still the one of `generation`, and
 * starts obtaining a new one unless a flight, a back-off or a terminal state already decides when.
 */
export const invalidate = <F extends Flight>(
  state: State<F>,
  now: number,
  generation: number,
  reason: Reason,
  request: Request<F>
): readonly [{ readonly dropped: boolean; readonly started: boolean }, State<F>] => {
  if (state.entry === undefined || state.revoked !== undefined || state.entry.access.generation !== generation) {
    return [{ dropped: false, started: false }, state]
  }
  const dropped: State<F> = { ...state, revoked: reason }
  const waiting = state.flight !== undefined || state.terminal !== undefined || state.closed ||
    (state.hold !== undefined && now < state.hold.until)
  if (waiting) return [{ dropped: true, started: false }, dropped]
  return [{ dropped: true, started: true }, withFlight(dropped, request, reason)[1]]
}

/** The worker's timer fired: the flight for `reason`, registered now unless one already is. */
export const attempt = <F extends Flight>(
  state: State<F>,
  reason: Reason,
  request: Request<F>
): readonly [F, State<F>] => state.flight !== undefined ? [state.flight, state] : withFlight(state, request, reason)

/**
 * A flight obtained `entry`. `backOffUntil` is set when the token arrived already due for refresh:
 * the next attempt then waits for a back-off instead of starting at once.
 */
export const succeeded = <F extends Flight>(
  state: State<F>,
  entry: Entry,
  now: number,
  backOffUntil: number | undefined
): State<F> => ({
  ...state,
  entry,
  revoked: undefined,
  flight: undefined,
  hold: backOffUntil === undefined
    ? undefined
    : { since: now, until: backOffUntil, cause: undefined, shortened: false },
  terminal: undefined,
  failures: backOffUntil === undefined ? 0 : state.failures + 1,
  streak: undefined,
  generation: Math.max(state.generation, entry.access.generation)
})

/** What a failed flight leaves behind. */
export interface Failure {
  readonly cause: Cause.Cause<TokenError>
  /** Attempts stop until `refresh` (the error is terminal, or the retry schedule is exhausted). */
  readonly terminal: TokenError | undefined
  /** When the retry is due (ignored when `terminal`); capped here by the windows of the token in force. */
  readonly retryAt: number
  /** The token set that arrived with the failure (it expired on arrival), replacing the one in force. */
  readonly arrived?: Entry | undefined
  /** What the error was (its tag and code), to count a streak of the same error; undefined for a defect. */
  readonly streakOf: string | undefined
}

/** How many attempts in a row, the next one included, will have failed with the error `of`. */
export const sameFailures = (state: State<Flight>, of: string | undefined): number =>
  of !== undefined && state.streak?.of === of ? state.streak.count + 1 : 1

/**
 * A flight failed at `now`. A retry is never due later than the token it protects needs: before
 * the forced window, no later than its start; inside it, no later than expiry. Returns when the
 * retry is due (undefined when attempts stopped) and whether a valid token is still served.
 */
export const failed = <F extends Flight>(
  state: State<F>,
  failure: Failure,
  now: number
): readonly [
  { readonly retryAt: number | undefined; readonly serving: boolean; readonly attempt: number },
  State<F>
] => {
  const entry = failure.arrived ?? state.entry
  const revoked = failure.arrived === undefined ? state.revoked : undefined
  const attempt = state.failures + 1
  const base: State<F> = {
    ...state,
    entry,
    revoked,
    flight: undefined,
    failures: attempt,
    streak: failure.streakOf === undefined
      ? undefined
      : { of: failure.streakOf, count: sameFailures(state, failure.streakOf) },
    generation: Math.max(state.generation, entry?.access.generation ?? 0)
  }
  const next: State<F> = failure.terminal !== undefined
    ? { ...base, hold: undefined, terminal: failure.terminal }
    : {
      ...base,
      hold: {
        since: now,
        until: capRetry(entry, revoked, now, failure.retryAt),
        cause: failure.cause,
        shortened: false
      }
    }
  const serving = valid(next, now) !== undefined
  return [{ retryAt: next.hold?.until, serving, attempt }, next]
}

const capRetry = (entry: Entry | undefined, revoked: Reason | undefined, now: number, retryAt: number): number => {
  if (entry === undefined || revoked !== undefined || now >= entry.windows.expiresAt) return retryAt
  return Math.min(retryAt, now < entry.windows.forcedAt ? entry.windows.forcedAt : entry.windows.expiresAt)
}

/**
 * Another process of the fleet committed `entry` (a newer generation, announced or read from the
 * store): this process takes it without asking the platform — unless a flight of its own is under
 * way, which reads the store itself before it asks. Attempts that had stopped start again from it.
 */
export const adopted = <F extends Flight>(state: State<F>, entry: Entry): readonly [boolean, State<F>] =>
  state.flight !== undefined || !supersedes(state, entry.stored)
    ? [false, state]
    : [true, {
      ...state,
      entry,
      revoked: undefined,
      hold: undefined,
      terminal: undefined,
      failures: 0,
      streak: undefined,
      generation: entry.access.generation
    }]

/**
 * Whether `stored`, read from a fleet's store, replaces what the state holds: a newer generation
 * than any seen, or the generation held with another access token issued later — two processes
 * obtained that generation while the store was out of reach, and the later one is the valid one.
 */
export const supersedes = (state: State<Flight>, stored: StoredToken): boolean =>
  stored.generation > state.generation ||
  (stored.generation === state.generation && state.entry !== undefined &&
    sameGenerationNewer(state.entry.stored, stored))

/**
 * Whether `other`, of the same generation as `held`, is another token issued after it: of two
 * tokens obtained as one generation, the platform honours only the one it issued last.
 */
export const sameGenerationNewer = (held: StoredToken, other: StoredToken): boolean =>
  other.generation === held.generation && other.tokens.issuedAt > held.tokens.issuedAt &&
  Redacted.value(other.tokens.accessToken) !== Redacted.value(held.tokens.accessToken)

/** The refresh token of generation `generation` was refused: the entry keeps `withoutRefreshToken`. */
export const refreshTokenDropped = <F extends Flight>(
  state: State<F>,
  generation: number,
  withoutRefreshToken: StoredToken
): State<F> =>
  state.entry !== undefined && state.entry.stored.generation === generation
    ? { ...state, entry: { ...state.entry, stored: withoutRefreshToken } }
    : state

/** The service's scope closed: returns the flight to interrupt; no flight starts any more. */
export const close = <F extends Flight>(state: State<F>): readonly [F | undefined, State<F>] => [
  state.flight,
  { ...state, flight: undefined, closed: true }
]

/**
 * What a `TokenService` tells the outside world: each change of the token state becomes a
 * `TokenEvent`, a log line and its metrics, from one table; each login or refresh request its
 * metrics and span outcome. Never a token or a secret: events and logs carry generations, times,
 * error tags and the errors' own (masked) messages.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import type { TokenError } from "../TokenError.js"
import { type Operation, type Reason, TokenEvent } from "../TokenEvent.js"
import {
  expiryTimestamp,
  loginTotal,
  refreshDuration,
  refreshTotal,
  secondsToExpiry,
  storeAvailable,
  storeReseeds,
  terminalTotal
} from "../TokenMetrics.js"
import type { TokenStoreError } from "../TokenStore.js"

/** A change of the token state worth telling. Times are epoch milliseconds. */
export type Change =
  | {
    readonly _tag: "Obtained"
    readonly how: "login" | "refresh" | "adopted"
    readonly reason: Reason
    readonly generation: number
    readonly expiresAt: number
    readonly refreshAt: number
    readonly refreshToken: "rotated" | "kept" | "none"
    /** The token arrived already due for refresh: the next attempt waits for a back-off. */
    readonly due: boolean
    readonly at: number
  }
  | {
    readonly _tag: "AdoptedAtStart"
    readonly generation: number
    readonly expiresAt: number
    readonly refreshAt: number
    readonly at: number
  }
  | {
    readonly _tag: "Failed"
    readonly reason: Reason
    readonly operation: Operation
    readonly error: TokenError
    readonly attempt: number
    readonly retryAt: number
    /** A valid token is still served meanwhile. */
    readonly serving: boolean
  }
  | {
    readonly _tag: "Terminal"
    readonly reason: Reason
    readonly operation: Operation
    readonly error: TokenError
    /** The retry schedule ended (otherwise the error itself is terminal). */
    readonly scheduleEnded: boolean
    readonly serving: boolean
  }
  | {
    readonly _tag: "Died"
    readonly reason: Reason
    readonly cause: Cause.Cause<unknown>
    readonly attempt: number
    readonly retryAt: number
  }
  | { readonly _tag: "Invalidated"; readonly reason: Reason; readonly generation: number }
  | { readonly _tag: "StoreUnavailable"; readonly operation: "get" | "set" | "lock"; readonly error: TokenStoreError }
  | { readonly _tag: "StoreRecovered" }
  | { readonly _tag: "StoreReseeded"; readonly generation: number }

interface Told {
  readonly event: TokenEvent | undefined
  readonly level: "Info" | "Warning" | "Error"
  readonly message: string
  readonly annotations: Record<string, unknown>
  readonly cause?: Cause.Cause<unknown> | undefined
  /** What the change counts, besides `secondsToExpiry`. */
  readonly metric?: Effect.Effect<void> | undefined
  /** Set `secondsToExpiry` and `expiryTimestamp` from this expiry. */
  readonly expiresAt?: number | undefined
  readonly at?: number | undefined
}

const iso = (millis: number) => Number.isFinite(millis) ? new Date(millis).toISOString() : String(millis)

const obtainedMessage = {
  login: "Logged in",
  refresh: "Access token refreshed",
  adopted: "Access token adopted from the token store"
}

/** The table: what each change tells. */
const tell: { readonly [K in Change["_tag"]]: (change: Extract<Change, { readonly _tag: K }>) => Told } = {
  Obtained: (c) => ({
    event: c.how === "adopted"
      ? TokenEvent.Adopted({ generation: c.generation, expiresAt: c.expiresAt, refreshAt: c.refreshAt })
      : c.how === "login"
      ? TokenEvent.LoggedIn({
        reason: c.reason,
        generation: c.generation,
        expiresAt: c.expiresAt,
        refreshAt: c.refreshAt
      })
      : TokenEvent.Refreshed({
        reason: c.reason,
        generation: c.generation,
        expiresAt: c.expiresAt,
        refreshAt: c.refreshAt,
        refreshToken: c.refreshToken
      }),
    level: c.due ? "Warning" : "Info",
    message: c.due
      ? `${obtainedMessage[c.how]}; the new access token is already due for refresh, backing off`
      : obtainedMessage[c.how],
    annotations: {
      reason: c.reason,
      generation: c.generation,
      expiresAt: iso(c.expiresAt),
      refreshAt: iso(c.refreshAt),
      ...(c.how === "refresh" ? { refreshToken: c.refreshToken } : {})
    },
    expiresAt: c.expiresAt,
    at: c.at
  }),
  AdoptedAtStart: (c) => ({
    event: undefined,
    level: "Info",
    message: "Access token adopted from the token store",
    annotations: { generation: c.generation, expiresAt: iso(c.expiresAt), refreshAt: iso(c.refreshAt) },
    expiresAt: c.expiresAt,
    at: c.at
  }),
  Failed: (c) => ({
    event: TokenEvent.Failed({
      reason: c.reason,
      operation: c.operation,
      error: c.error,
      attempt: c.attempt,
      retryAt: c.retryAt
    }),
    level: "Warning",
    message: `${
      c.serving
        ? "Token refresh failed; serving the still-valid token and retrying"
        : "Token acquisition failed; retrying"
    }. ${c.error.message}`,
    annotations: {
      reason: c.reason,
      attempt: c.attempt,
      retryAt: iso(c.retryAt),
      operation: c.operation,
      error: c.error._tag,
      code: c.error.code
    }
  }),
  Terminal: (c) => ({
    event: TokenEvent.Terminal({ reason: c.reason, operation: c.operation, error: c.error }),
    level: "Error",
    message: `Token acquisition failed for good${c.scheduleEnded ? " (the retry schedule ended)" : ""}; ${
      c.serving ? "serving the still-valid token until it expires, then " : ""
    }callers fail with this error until TokenService.refresh is called. ${c.error.message}`,
    annotations: { reason: c.reason, operation: c.operation, error: c.error._tag, code: c.error.code },
    metric: Metric.update(Metric.withAttributes(terminalTotal, { error: c.error._tag }), 1)
  }),
  Died: (c) => ({
    event: undefined,
    level: "Error",
    message: "Token acquisition died; retrying",
    annotations: { reason: c.reason, attempt: c.attempt, retryAt: iso(c.retryAt) },
    cause: c.cause
  }),
  Invalidated: (c) => ({
    event: TokenEvent.Invalidated({ reason: c.reason, generation: c.generation }),
    level: "Info",
    message: "Access token invalidated",
    annotations: { reason: c.reason, generation: c.generation }
  }),
  StoreUnavailable: (c) => ({
    event: TokenEvent.StoreUnavailable({ operation: c.operation, error: c.error }),
    level: "Warning",
    message: "Token store unavailable; serving the token in memory and obtaining tokens without the store",
    annotations: { operation: c.operation },
    metric: Metric.update(storeAvailable, 0)
  }),
  StoreRecovered: () => ({
    event: TokenEvent.StoreRecovered(),
    level: "Info",
    message: "Token store answers again",
    annotations: {},
    metric: Metric.update(storeAvailable, 1)
  }),
  StoreReseeded: (c) => ({
    event: TokenEvent.StoreReseeded({ generation: c.generation }),
    level: "Info",
    message: "Token store found empty or behind this process; wrote this process's token to it again",
    annotations: { generation: c.generation },
    metric: Metric.update(storeReseeds, 1)
  })
}

const log = { Info: Effect.logInfo, Warning: Effect.logWarning, Error: Effect.logError }

/** Tells `change`: its event to `events`, its log line, its metrics. */
export const change = (events: PubSub.PubSub<TokenEvent>, change: Change): Effect.Effect<void> => {
  const told = (tell[change._tag] as (change: Change) => Told)(change)
  return Effect.gen(function*() {
    if (told.expiresAt !== undefined && told.at !== undefined) {
      yield* Metric.update(secondsToExpiry, (told.expiresAt - told.at) / 1000)
      yield* Metric.update(expiryTimestamp, told.expiresAt / 1000)
    }
    if (told.metric !== undefined) yield* told.metric
    if (told.event !== undefined) yield* PubSub.publish(events, told.event)
    const line = told.cause === undefined ? log[told.level](told.message) : log[told.level](told.message, told.cause)
    yield* Effect.annotateLogs(line, told.annotations)
  }).pipe(Effect.ignoreCause) // a logger or a metric that fails must not stop the worker
}

/** The worker's periodic reading of the time left on the token in force. */
export const expiresIn = (expiresAt: number, at: number): Effect.Effect<void> =>
  Metric.update(secondsToExpiry, (expiresAt - at) / 1000)

/**
 * A login or refresh request ended after `seconds`: its duration and outcome counted by operation
 * and reason, and its span's `outcome` set (`success`, the error's tag, or `defect`).
 */
export const requestEnded = (
  operation: Operation,
  reason: Reason,
  exit: Exit.Exit<unknown, { readonly _tag: string }>,
  seconds: number
): Effect.Effect<void> => {
  const outcome = Exit.isSuccess(exit)
    ? "success"
    : Option.match(Cause.findErrorOption(exit.cause), { onNone: () => "defect", onSome: (error) => error._tag })
  return Effect.all([
    Metric.update(Metric.withAttributes(refreshDuration, { operation }), seconds),
    Metric.update(Metric.withAttributes(operation === "login" ? loginTotal : refreshTotal, { outcome, reason }), 1),
    Effect.annotateCurrentSpan("outcome", outcome)
  ], { discard: true })
}

/** `text` with every `known` token (a store may echo what it holds) replaced by `<redacted>`. */
const masked = (text: string, known: ReadonlyArray<Redacted.Redacted<string>>): string =>
  known.reduce((masking, token) => {
    const value = Redacted.value(token)
    return value.length < 4 ? masking : masking.split(value).join("<redacted>")
  }, text)

/** The store could not be read or written (or did not answer): the service carries on without it. */
export const storeFailed = (
  what: "read" | "written",
  error: TokenStoreError,
  known: ReadonlyArray<Redacted.Redacted<string>>
): Effect.Effect<void> =>
  Effect.logWarning(masked(`Token store could not be ${what}; carrying on without it. ${error.message}`, known))

/** The store's lock failed, ended without running the attempt, or was not granted in time: the attempt runs without it. */
export const lockFailed = (
  reason: Reason,
  lock: Exit.Exit<unknown, unknown> | undefined,
  timeout: Duration.Duration,
  known: ReadonlyArray<Redacted.Redacted<string>>
): Effect.Effect<void> => {
  const why = lock === undefined
    ? `not granted within ${Duration.format(timeout)}`
    : Exit.isSuccess(lock)
    ? "ended without running the attempt"
    : Option.match(Cause.findErrorOption(lock.cause), {
      onNone: () => "failed unexpectedly",
      onSome: (error) => error instanceof Error ? error.message : "failed"
    })
  return Effect.logWarning(masked(`Token store lock ${why}; running without it.`, known)).pipe(
    Effect.annotateLogs({ reason })
  )
}

/** A fleet's lock is held by another process past `wait`: this process adopts what it commits, or retries. */
export const lockHeld = (reason: Reason, wait: Duration.Duration): Effect.Effect<void> =>
  Effect.logInfo(
    `Token store lock held by another process for over ${Duration.format(wait)}; adopting its token or retrying.`
  ).pipe(Effect.annotateLogs({ reason }))

/** The store's lock was not released within `timeout` after the attempt: left behind. */
export const unlockTimedOut = (timeout: Duration.Duration): Effect.Effect<void> =>
  Effect.logWarning(`Token store lock not released within ${Duration.format(timeout)}; carrying on.`)

/** The platform refused the refresh token (or it cannot be sent): it is dropped and a login follows. */
export const refreshTokenRefused = (
  reason: Reason,
  generation: number,
  error: TokenError | { readonly _tag: string; readonly code: string; readonly message: string }
): Effect.Effect<void> =>
  Effect.logWarning(
    error._tag === "RefreshTokenRejected"
      ? "Refresh token refused by the platform; logging in"
      : `Refresh token unusable; logging in. ${error.message}`
  ).pipe(Effect.annotateLogs({ reason, generation, code: error.code }))

/**
 * A fleet's store is out of reach: the attempt waits for it until `until` at most — a refresh while
 * the token is valid, or (`yieldsToCallers` false) a replacement for a token refused on a call.
 */
export const refreshDeferred = (reason: Reason, until: number, yieldsToCallers: boolean): Effect.Effect<void> =>
  Effect.logWarning(
    yieldsToCallers
      ? `Token store out of reach; the refresh waits for it while the token is valid (until ${
        new Date(until).toISOString()
      } at most), so that the fleet still makes it once.`
      : `Token store out of reach, and the token was refused on a call: another process has probably replaced it; ` +
        `waiting for the store (until ${new Date(until).toISOString()} at most) to take its token.`
  ).pipe(Effect.annotateLogs({ reason }))

/** A refresh token refused in a fleet (its store out of reach, empty, or not locked): a sibling probably rotated it; waiting for the store. */
export const awaitingStore = (reason: Reason, generation: number, wait: Duration.Duration): Effect.Effect<void> =>
  Effect.logWarning(
    `Refresh token refused: another process sharing the token store has probably rotated it; ` +
      `waiting up to ${Duration.format(wait)} for its token in the store before logging in.`
  ).pipe(Effect.annotateLogs({ reason, generation }))

/** The store refused this process's write of `generation` (it holds `stored`): the store's token is adopted. */
export const commitRefused = (generation: number, stored: number): Effect.Effect<void> =>
  Effect.logWarning(
    `Token store refused the write of generation ${generation}: another process committed generation ${stored} ` +
      "meanwhile; keeping whichever token the platform issued last."
  )

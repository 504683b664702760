/**
 * The token state machine behind `TokenService`: a `Ref` read by callers, one worker fiber owned
 * by the service's scope doing every login and refresh, a `Deferred` per flight.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as IocmError from "@iocm/core/IocmError"
import { TokenSet } from "@iocm/core/TokenSet"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as RefreshPolicy from "../RefreshPolicy.js"
import { ExpiredOnArrival, isTerminal, type TerminalError, type TokenError } from "../TokenError.js"
import { type Operation, type Reason, TokenEvent } from "../TokenEvent.js"
import { loginTotal, refreshDuration, refreshTotal, secondsToExpiry } from "../TokenMetrics.js"
import type { AccessToken, Service } from "../TokenService.js"
import { StoredToken, TokenStore, type TokenStoreError } from "../TokenStore.js"

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

interface Entry {
  readonly stored: StoredToken
  readonly access: AccessToken
  readonly windows: RefreshPolicy.Windows
}

interface Pending {
  readonly deferred: Deferred.Deferred<AccessToken, TokenError>
  readonly reason: Reason
  /**
   * What a `get` that joins this flight runs: one effect per flight, shared by every caller, so
   * a joining caller costs one `Deferred.await` (and a `catch` frame) and nothing is built per call.
   */
  readonly join: Effect.Effect<AccessToken, TokenError>
}

interface State {
  /** Hot path: callers get `hit` at once while `now < freshUntil` (finite only when `hit` is set). */
  readonly freshUntil: number
  readonly hit: Effect.Effect<AccessToken, TokenError> | undefined
  /** The token set in force (kept after `invalidate` for its refresh token). */
  readonly entry: Entry | undefined
  /** The access token of `entry` was invalidated. */
  readonly revoked: boolean
  /** The flight requested or in progress. */
  readonly pending: Pending | undefined
  /** Back-off: no flight is started on demand before `holdUntil`; callers without a valid token get `holdCause`. */
  readonly holdUntil: number
  readonly holdCause: Cause.Cause<TokenError> | undefined
  readonly terminal: TerminalError | undefined
  /** Consecutive failed attempts. */
  readonly failures: number
  /** Highest generation seen. */
  readonly generation: number
}

const neverFresh = Number.NEGATIVE_INFINITY

/** The longest single wait of the worker: the clock cannot schedule a timer beyond 2^31 − 1 ms. */
const maxWaitMillis = 2 ** 31 - 1

const freshness = (entry: Entry | undefined, revoked: boolean, terminal: TerminalError | undefined) =>
  entry === undefined || revoked || terminal !== undefined ? neverFresh : entry.windows.forcedAt

const isValid = (state: State, now: number): boolean =>
  state.entry !== undefined && !state.revoked && state.terminal === undefined && now < state.entry.windows.expiresAt

class AttemptFailure {
  readonly _tag = "AttemptFailure"
  constructor(readonly operation: Operation, readonly error: TokenError) {}
}

interface Obtained {
  readonly operation: Operation
  readonly stored: StoredToken
  readonly refreshToken: "rotated" | "kept" | "none"
  readonly adopted: boolean
  readonly sentAt: number
}

interface Timer {
  readonly at: number
  readonly reason: Reason
}

/** A flight to await; `start` when the caller requested it and must wake the worker. */
interface Awaiting {
  readonly pending: Pending
  readonly start: boolean
}

type Decision =
  | { readonly _tag: "Hit"; readonly access: AccessToken; readonly start: false }
  | { readonly _tag: "Fail"; readonly cause: Cause.Cause<TokenError>; readonly start: false }
  | ({ readonly _tag: "Await" } & Awaiting)

const iso = (millis: number) => Number.isFinite(millis) ? new Date(millis).toISOString() : String(millis)

/** @internal */
export const make = (
  policyInput?: RefreshPolicy.Options | RefreshPolicy.RefreshPolicy | undefined
): Effect.Effect<Service, never, IocmAuth.IocmAuth | TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const policy = RefreshPolicy.make(policyInput)
    const auth = yield* IocmAuth.IocmAuth
    const store = yield* TokenStore
    const clock = yield* Clock.Clock
    const events = yield* Effect.acquireRelease(PubSub.sliding<TokenEvent>(1024), PubSub.shutdown)
    const wake = yield* Queue.sliding<void>(1)
    const requestTimeout = policy.requestTimeout
    const now = () => clock.currentTimeMillisUnsafe()

    const makeEntry = (stored: StoredToken, random: number): Entry => ({
      stored,
      access: {
        token: stored.tokens.accessToken,
        generation: stored.generation,
        expiresAt: stored.tokens.expiresAt
      },
      windows: RefreshPolicy.windows(policy, stored.tokens, random)
    })

    const storeGet = store.get.pipe(
      Effect.catch((error: TokenStoreError) =>
        Effect.as(
          Effect.logWarning(`Token store could not be read; carrying on without it. ${error.message}`),
          Option.none()
        )
      )
    )
    const storeSet = (stored: StoredToken) =>
      store.set(stored).pipe(
        Effect.catch((error: TokenStoreError) =>
          Effect.logWarning(`Token store could not be written; carrying on without it. ${error.message}`)
        )
      )

    // -- initial state: adopt what the store holds ------------------------------------------
    const initial = yield* storeGet
    let initialTimer: Timer | undefined
    let initialEntry: Entry | undefined
    if (Option.isSome(initial)) {
      initialEntry = makeEntry(initial.value, yield* Random.next)
      if (now() < initialEntry.windows.expiresAt) {
        initialTimer = { at: initialEntry.windows.refreshAt, reason: "proactive" }
        yield* Effect.logInfo("Access token adopted from the token store").pipe(
          Effect.annotateLogs({
            generation: initialEntry.access.generation,
            expiresAt: iso(initialEntry.windows.expiresAt),
            refreshAt: iso(initialEntry.windows.refreshAt)
          })
        )
      }
    }
    const initialState: State = {
      freshUntil: freshness(initialEntry, false, undefined),
      hit: initialEntry === undefined ? undefined : Effect.succeed(initialEntry.access),
      entry: initialEntry,
      revoked: false,
      pending: undefined,
      holdUntil: 0,
      holdCause: undefined,
      terminal: undefined,
      failures: 0,
      generation: initialEntry?.stored.generation ?? 0
    }
    const ref = yield* Ref.make(initialState)
    // Every write goes through these helpers, which keep `hot` equal to the content of `ref`: the
    // hot path reads it synchronously (one operation instead of a `Ref.get` and a `flatMap`).
    let hot: State = initialState
    const modify = <B>(f: (state: State) => readonly [B, State]): Effect.Effect<B> =>
      Ref.modify(ref, (state) => {
        const result = f(state)
        hot = result[1]
        return result
      })
    const update = (f: (state: State) => State): Effect.Effect<void> => modify((state) => [void 0, f(state)])

    const publish = (event: TokenEvent) => PubSub.publish(events, event)

    // -- callers ----------------------------------------------------------------------------
    // A failed flight does not withhold a token that is still valid.
    const orValid = (error: TokenError): Effect.Effect<AccessToken, TokenError> =>
      Effect.flatMap(Ref.get(ref), (state) =>
        !isTerminal(error) && isValid(state, now()) ? Effect.succeed(state.entry!.access) : Effect.fail(error))

    const newPending = (reason: Reason): Pending => {
      const deferred = Deferred.makeUnsafe<AccessToken, TokenError>()
      return { deferred, reason, join: Effect.catch(Deferred.await(deferred), orValid) }
    }

    const decideGet = (state: State, at: number): readonly [Decision, State] => {
      if (state.terminal !== undefined) {
        return [{ _tag: "Fail", cause: Cause.fail(state.terminal), start: false }, state]
      }
      if (at < state.freshUntil && state.entry !== undefined) {
        return [{ _tag: "Hit", access: state.entry.access, start: false }, state]
      }
      if (state.pending !== undefined) {
        return [{ _tag: "Await", pending: state.pending, start: false }, state]
      }
      if (at < state.holdUntil) {
        if (isValid(state, at)) {
          return [{ _tag: "Hit", access: state.entry!.access, start: false }, state]
        }
        if (state.holdCause !== undefined) {
          return [{ _tag: "Fail", cause: state.holdCause, start: false }, state]
        }
      }
      const pending = newPending(state.entry === undefined ? "cold" : "forced")
      return [{ _tag: "Await", pending, start: true }, { ...state, pending }]
    }

    // Wakes the worker now, in this fiber's step: releasing the taker resumes the parked worker
    // synchronously, so it starts the flight (the request is on the wire) before this caller even
    // awaits it. `Queue.offer` releases it through the scheduler (a `setImmediate`), after every
    // fiber already queued: in a herd, after the 9 999 other callers' first steps.
    const wakeWorkerNow = Effect.sync(() => {
      Queue.offerUnsafe(wake, void 0)
      Queue.flushUnsafe(wake)
    })
    // Wakes the worker on the scheduler's next turn, after the current fiber has gone on.
    const wakeWorkerLater = Queue.offer(wake, void 0)

    /**
     * Runs a transition of the state that may register a flight, and wakes the worker when it
     * did, as one step an interruption cannot split: a flight registered but never started would
     * hang every later caller. Only the wait that follows is interruptible.
     */
    const transition = <B extends { readonly start: boolean }>(
      f: (state: State) => readonly [B, State],
      wakeWorker: Effect.Effect<unknown> = wakeWorkerNow
    ) =>
      Effect.uninterruptible(Effect.tap(modify(f), (result) => result.start ? wakeWorker : Effect.void))

    const slowGet: Effect.Effect<AccessToken, TokenError> = Effect.suspend(() => {
      const at = now()
      return Effect.flatMap(
        transition((state) => decideGet(state, at)),
        (decision) => {
          switch (decision._tag) {
            case "Hit":
              return Effect.succeed(decision.access)
            case "Fail":
              return Effect.failCause(decision.cause)
            case "Await":
              return decision.pending.join
          }
        }
      )
    })

    // The hot path: a read of the state and of the clock; the result is precomputed. Joining a
    // flight already requested is decided here too (what `decideGet` would decide, read from the
    // synchronous copy of the state): no `Ref.modify`, no uninterruptible region, no decision
    // object, so the 9 999 followers of a herd cost one `Deferred.await` each.
    const get: Effect.Effect<AccessToken, TokenError> = Effect.suspend(() => {
      const state = hot
      if (state.hit !== undefined && clock.currentTimeMillisUnsafe() < state.freshUntil) return state.hit
      return state.pending !== undefined && state.terminal === undefined ? state.pending.join : slowGet
    })

    const refresh: Effect.Effect<AccessToken, TokenError> = Effect.flatMap(
      transition((state): readonly [Awaiting, State] => {
        const cleared: State = {
          ...state,
          terminal: undefined,
          holdUntil: 0,
          holdCause: undefined,
          freshUntil: freshness(state.entry, state.revoked, undefined)
        }
        if (state.pending !== undefined) {
          return [{ pending: state.pending, start: false }, cleared]
        }
        const pending = newPending("explicit")
        return [{ pending, start: true }, { ...cleared, pending }]
      }),
      ({ pending }) => Deferred.await(pending.deferred)
    )

    const invalidate = (generation: number, reason: Reason = "invalidated"): Effect.Effect<boolean> =>
      Effect.suspend(() => {
        const at = now()
        return Effect.flatMap(
          transition((state): readonly [{ dropped: boolean; start: boolean }, State] => {
            if (state.entry === undefined || state.revoked || state.entry.access.generation !== generation) {
              return [{ dropped: false, start: false }, state]
            }
            const dropped: State = { ...state, revoked: true, freshUntil: neverFresh }
            if (state.pending !== undefined || state.terminal !== undefined || at < state.holdUntil) {
              return [{ dropped: true, start: false }, dropped]
            }
            return [{ dropped: true, start: true }, { ...dropped, pending: newPending(reason) }]
          }, wakeWorkerLater), // later: `Invalidated` goes out before any event of the flight it starts
          ({ dropped }) =>
            !dropped ? Effect.succeed(false) : Effect.gen(function*() {
              yield* publish(TokenEvent.Invalidated({ reason, generation }))
              yield* Effect.logInfo("Access token invalidated").pipe(Effect.annotateLogs({ reason, generation }))
              return true
            })
        )
      })

    const current = Effect.map(Ref.get(ref), (state) => Option.fromNullishOr(state.entry?.stored.tokens))

    // -- the flight: one login or refresh (with the login fallback) -------------------------
    const call = (
      operation: Operation,
      reason: Reason,
      effect: Effect.Effect<TokenSet, IocmError.RefreshError>,
      attributes: Record<string, unknown> = {}
    ): Effect.Effect<TokenSet, IocmError.RefreshError> =>
      Effect.gen(function*() {
        const startedAt = now()
        const exit = yield* effect.pipe(
          Effect.timeoutOrElse({
            duration: requestTimeout,
            orElse: () =>
              Effect.fail(
                new IocmError.TransportError({
                  code: "Timeout",
                  description: `No answer to the ${operation} request within ${Duration.format(requestTimeout)}.`
                })
              )
          }),
          Effect.exit
        )
        const outcome = Exit.isSuccess(exit)
          ? "success"
          : Option.match(Cause.findErrorOption(exit.cause), { onNone: () => "defect", onSome: (error) => error._tag })
        yield* Metric.update(Metric.withAttributes(refreshDuration, { operation }), (now() - startedAt) / 1000)
        yield* Metric.update(
          Metric.withAttributes(operation === "login" ? loginTotal : refreshTotal, { outcome, reason }),
          1
        )
        yield* Effect.annotateCurrentSpan("outcome", outcome)
        return yield* exit
      }).pipe(Effect.withSpan(`iocm.token.${operation}`, { attributes: { reason, ...attributes } }))

    const login = (reason: Reason, attributes?: Record<string, unknown>) =>
      call("login", reason, auth.login, attributes).pipe(
        Effect.mapError((error) => new AttemptFailure("login", error as TokenError))
      )

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

    // Token sets and generations built here are valid by construction, so they skip re-validation.
    const withoutRefreshToken = (stored: StoredToken): StoredToken =>
      new StoredToken({
        generation: stored.generation,
        tokens: new TokenSet({ ...stored.tokens, refreshToken: Option.none() }, { disableChecks: true })
      }, { disableChecks: true })

    const flightBody = (reason: Reason): Effect.Effect<Obtained, AttemptFailure> =>
      Effect.gen(function*() {
        const state = yield* Ref.get(ref)
        const local = state.entry?.stored
        const shared = Option.getOrUndefined(yield* storeGet)
        const sentAt = now()
        // Another process sharing the store may already have a newer token: adopt it.
        if (
          shared !== undefined && shared.generation > Math.max(state.generation, local?.generation ?? 0) &&
          sentAt < shared.tokens.expiresAt - Duration.toMillis(policy.forcedWindow)
        ) {
          return { operation: "refresh", stored: shared, refreshToken: "kept", adopted: true, sentAt } as const
        }
        const base = shared !== undefined && shared.generation > (local?.generation ?? 0) ? shared : local
        const generation = Math.max(state.generation, base?.generation ?? 0) + 1
        const done = (operation: Operation, fresh: TokenSet) => {
          const rotated = rotate(fresh, operation === "refresh" ? base?.tokens : undefined)
          const stored = new StoredToken({ tokens: rotated.tokens, generation }, { disableChecks: true })
          return Effect.as(
            storeSet(stored),
            {
              operation,
              stored,
              refreshToken: rotated.refreshToken,
              adopted: false,
              sentAt
            } as const
          )
        }
        const refreshToken = base?.tokens.refreshToken ?? Option.none<Redacted.Redacted<string>>()
        if (base === undefined) {
          return yield* Effect.flatMap(login(reason), (fresh) => done("login", fresh))
        }
        if (Option.isNone(refreshToken)) {
          return yield* Effect.flatMap(login(reason, { refreshToken: "missing" }), (fresh) => done("login", fresh))
        }
        const refreshExpiresAt = Option.getOrElse(base.tokens.refreshExpiresAt, () => 0)
        if (sentAt >= refreshExpiresAt) {
          return yield* Effect.flatMap(login(reason, { refreshToken: "expired" }), (fresh) => done("login", fresh))
        }
        const refreshed = yield* call("refresh", reason, auth.refresh(refreshToken.value)).pipe(Effect.result)
        if (Result.isSuccess(refreshed)) return yield* done("refresh", refreshed.success)
        const error = refreshed.failure
        // A refresh token the platform issued but core's own checks refuse (over 256 characters,
        // control characters) was never sent, and never will be: it is as good as refused.
        const unusable = "detectedLocally" in error && error.detectedLocally === true
        if (error._tag !== "RefreshTokenRejected" && !unusable) {
          return yield* Effect.fail(new AttemptFailure("refresh", error))
        }
        // Drop the refused refresh token, then log in — once.
        const dropped = withoutRefreshToken(base)
        yield* storeSet(dropped)
        yield* update((s) =>
          s.entry !== undefined && s.entry.stored.generation === base.generation
            ? { ...s, entry: { ...s.entry, stored: dropped } }
            : s
        )
        yield* Effect.logWarning(
          unusable
            ? `Refresh token unusable; logging in. ${error.message}`
            : "Refresh token refused by the platform; logging in"
        ).pipe(Effect.annotateLogs({ reason, generation: base.generation, code: error.code }))
        return yield* Effect.flatMap(login("rejected-token"), (fresh) => done("login", fresh))
      })

    // Runs the flight inside the store's lock; if the lock cannot be taken, without it.
    const flight = (reason: Reason): Effect.Effect<Obtained, AttemptFailure> =>
      Effect.gen(function*() {
        const withLock = store.withLock
        if (withLock === undefined) return yield* flightBody(reason)
        let outcome: Exit.Exit<Obtained, AttemptFailure> | undefined
        yield* withLock(Effect.tap(Effect.exit(flightBody(reason)), (exit) =>
          Effect.sync(() => {
            outcome = exit
          }))).pipe(
            Effect.catch((error) =>
              Effect.logWarning(`Token store lock failed; running without it. ${error.message}`).pipe(
                Effect.annotateLogs({ reason })
              )
            )
          )
        return yield* (outcome ?? flightBody(reason))
      })

    // -- the worker: every flight runs here, in the service's scope --------------------------
    const onSuccess = (pending: Pending, obtained: Obtained): Effect.Effect<Timer | undefined> =>
      Effect.gen(function*() {
        const at = now()
        const entry = makeEntry(obtained.stored, yield* Random.next)
        const { expiresAt } = entry.windows
        if (expiresAt <= at) {
          const error = new ExpiredOnArrival({
            code: "ExpiredOnArrival",
            description: "The access token expired before the answer arrived.",
            expiresIn: obtained.stored.tokens.expiresIn,
            latencyMillis: at - obtained.sentAt
          })
          return yield* onFailure(pending, Cause.fail(new AttemptFailure(obtained.operation, error)), entry)
        }
        // A token already due for refresh: do not spin, back off.
        const due = entry.windows.refreshAt <= at
        const random = yield* Random.next
        const nextAt = yield* modify((state): readonly [number, State] => {
          const nextAt = due
            ? Math.min(
              at + Duration.toMillis(RefreshPolicy.retryDelay(policy, state.failures + 1, random)),
              entry.windows.expiresAt
            )
            : entry.windows.refreshAt
          return [nextAt, {
            freshUntil: entry.windows.forcedAt,
            hit: Effect.succeed(entry.access),
            entry,
            revoked: false,
            pending: undefined,
            holdUntil: due ? nextAt : 0,
            holdCause: undefined,
            terminal: undefined,
            failures: due ? state.failures + 1 : 0,
            generation: Math.max(state.generation, entry.access.generation)
          }]
        })
        yield* Deferred.succeed(pending.deferred, entry.access)
        yield* Metric.update(secondsToExpiry, (expiresAt - at) / 1000)
        const generation = entry.access.generation
        const annotations = {
          reason: pending.reason,
          generation,
          expiresAt: iso(expiresAt),
          refreshAt: iso(nextAt)
        }
        if (obtained.adopted) {
          yield* publish(TokenEvent.Adopted({ generation, expiresAt, refreshAt: nextAt }))
          yield* Effect.logInfo("Access token adopted from the token store").pipe(Effect.annotateLogs(annotations))
        } else if (obtained.operation === "login") {
          yield* publish(TokenEvent.LoggedIn({ reason: pending.reason, generation, expiresAt, refreshAt: nextAt }))
          yield* Effect.logInfo("Logged in").pipe(Effect.annotateLogs(annotations))
        } else {
          yield* publish(
            TokenEvent.Refreshed({
              reason: pending.reason,
              generation,
              expiresAt,
              refreshAt: nextAt,
              refreshToken: obtained.refreshToken
            })
          )
          yield* Effect.logInfo("Access token refreshed").pipe(
            Effect.annotateLogs({ ...annotations, refreshToken: obtained.refreshToken })
          )
        }
        if (due) {
          yield* Effect.logWarning("The new access token is already due for refresh; backing off").pipe(
            Effect.annotateLogs(annotations)
          )
        }
        return { at: nextAt, reason: "proactive" as const }
      })

    const onFailure = (
      pending: Pending,
      cause: Cause.Cause<AttemptFailure>,
      arrived?: Entry
    ): Effect.Effect<Timer | undefined> =>
      Effect.gen(function*() {
        const at = now()
        const failure = Cause.findErrorOption(cause)
        const errorCause: Cause.Cause<TokenError> = Cause.map(cause, (f) => f.error)
        if (Option.isSome(failure) && isTerminal(failure.value.error)) {
          const error = failure.value.error
          yield* update((state) => ({
            ...state,
            entry: arrived ?? state.entry,
            freshUntil: neverFresh,
            pending: undefined,
            terminal: error,
            failures: state.failures + 1
          }))
          yield* Deferred.fail(pending.deferred, error)
          yield* publish(TokenEvent.Terminal({ reason: pending.reason, operation: failure.value.operation, error }))
          yield* Effect.logError(
            `Token acquisition failed for good; callers fail at once until TokenService.refresh is called. ${error.message}`
          ).pipe(
            Effect.annotateLogs({
              reason: pending.reason,
              operation: failure.value.operation,
              error: error._tag,
              code: error.code
            })
          )
          return undefined
        }
        const random = yield* Random.next
        const { attempt, retryAt, serving } = yield* modify((state) => {
          const entry = arrived ?? state.entry
          const revoked = arrived === undefined ? state.revoked : false
          const attempt = state.failures + 1
          let retryAt = at + Duration.toMillis(RefreshPolicy.retryDelay(policy, attempt, random))
          // While the token is valid, retry no later than the start of the forced window, and
          // inside it no later than expiry: a back-off must not outlast the token it protects.
          if (entry !== undefined && !revoked && at < entry.windows.expiresAt) {
            retryAt = Math.min(retryAt, at < entry.windows.forcedAt ? entry.windows.forcedAt : entry.windows.expiresAt)
          }
          const next: State = {
            ...state,
            entry,
            revoked,
            freshUntil: freshness(entry, revoked, state.terminal),
            hit: entry === undefined ? state.hit : Effect.succeed(entry.access),
            pending: undefined,
            holdUntil: retryAt,
            holdCause: errorCause,
            failures: attempt,
            generation: Math.max(state.generation, entry?.access.generation ?? 0)
          }
          return [{ attempt, retryAt, serving: isValid(next, at) }, next] as const
        })
        yield* Deferred.failCause(pending.deferred, errorCause)
        const annotations = {
          reason: pending.reason,
          attempt,
          retryAt: iso(retryAt)
        }
        if (Option.isSome(failure)) {
          const { error, operation } = failure.value
          yield* publish(TokenEvent.Failed({ reason: pending.reason, operation, error, attempt, retryAt }))
          yield* Effect.logWarning(
            `${
              serving
                ? "Token refresh failed; serving the still-valid token and retrying"
                : "Token acquisition failed; retrying"
            }. ${error.message}`
          ).pipe(Effect.annotateLogs({ ...annotations, operation, error: error._tag, code: error.code }))
        } else {
          yield* Effect.logError("Token acquisition died; retrying", cause).pipe(Effect.annotateLogs(annotations))
        }
        return { at: retryAt, reason: pending.reason }
      })

    const attempt = (reason: Reason): Effect.Effect<Timer | undefined> =>
      Effect.gen(function*() {
        const pending = yield* modify((state): readonly [Pending, State] => {
          if (state.pending !== undefined) return [state.pending, state]
          const pending = newPending(reason)
          return [pending, { ...state, pending }]
        })
        const exit = yield* Effect.exit(flight(pending.reason))
        return yield* Exit.match(exit, {
          onSuccess: (obtained) => onSuccess(pending, obtained),
          onFailure: (cause) => onFailure(pending, cause)
        })
      })

    let timer: Timer | undefined = initialTimer
    const step: Effect.Effect<void> = Effect.gen(function*() {
      const state = yield* Ref.get(ref)
      const at = now()
      if (state.entry !== undefined && !state.revoked) {
        yield* Metric.update(secondsToExpiry, (state.entry.windows.expiresAt - at) / 1000)
      }
      if (state.pending !== undefined) {
        timer = yield* attempt(state.pending.reason)
      } else if (timer !== undefined && state.terminal === undefined) {
        if (at >= timer.at) {
          timer = yield* attempt(timer.reason)
        } else {
          // A timer further away than the clock can schedule (about 24.8 days) is waited for in steps.
          yield* Effect.timeoutOption(Queue.take(wake), Duration.millis(Math.min(timer.at - at, maxWaitMillis)))
        }
      } else {
        yield* Queue.take(wake)
      }
    }).pipe(
      // The worker never dies: an unexpected defect is logged, and the loop goes on after a pause.
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.andThen(
          Effect.logError("Token worker failed unexpectedly; carrying on", cause),
          Effect.sleep(policy.retryBase)
        )
      )
    )

    yield* Effect.addFinalizer(() =>
      Effect.flatMap(
        Ref.get(ref),
        (state) => state.pending === undefined ? Effect.void : Deferred.interrupt(state.pending.deferred)
      )
    )
    // No yield between steps: a step that takes the wake-up goes straight on to the flight in the
    // same turn (with a yield, the request would wait for one more turn of the scheduler). Every
    // step either waits or runs one attempt, and the run loop's operation budget still applies.
    yield* Effect.forkScoped(Effect.interruptible(Effect.forever(step, { disableYield: true })))

    return {
      get,
      refresh,
      invalidate,
      current,
      changes: Stream.fromPubSub(events),
      policy
    }
  })

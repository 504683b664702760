/**
 * The worker of a `TokenService`: one fiber, owned by the service's scope, that runs every attempt
 * (`flight.ts`), turns its outcome into a transition of the state (`tokenState.ts`) and a report
 * (`report.ts`), steps the retry schedule, and sleeps until the next attempt is due or a caller
 * wakes it.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as PubSub from "effect/PubSub"
import * as Pull from "effect/Pull"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as RefreshPolicy from "../RefreshPolicy.js"
import { ExpiredOnArrival, type TokenError } from "../TokenError.js"
import type { Reason, TokenEvent } from "../TokenEvent.js"
import type { AccessToken } from "../TokenService.js"
import type { StoredToken } from "../TokenStore.js"
import type { Cell, Pending, State } from "./cell.js"
import * as Flight from "./flight.js"
import * as Report from "./report.js"
import * as TokenState from "./tokenState.js"

/** What the worker works with. */
export interface Worker {
  readonly cell: Cell
  readonly events: PubSub.PubSub<TokenEvent>
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly now: () => number
  readonly flight: Flight.Context
  readonly entryOf: (stored: StoredToken, random: number) => TokenState.Entry
  readonly request: TokenState.Request<Pending>
  /** Callers offer to it when they register a flight. */
  readonly wake: Queue.Queue<void>
}

/** When the worker runs the next attempt, and for what. */
export interface Timer {
  readonly at: number
  readonly reason: Reason
  /** The highest generation seen when it was set: a newer one (adopted from the store) makes it stale. */
  readonly generation: number
  /** The access token in force when it was set: another one of the same generation (adopted) makes it stale too. */
  readonly access: AccessToken | undefined
}

type Stepper = (now: number, input: TokenError | undefined) => Pull.Pull<[unknown, Duration.Duration], never, unknown>

/** What the worker carries from one step to the next. */
interface Progress {
  timer: Timer | undefined
  /** The retry schedule of the current streak of failures, stepped once per failure. */
  retry: Stepper | undefined
}

/** The pause after an unexpected defect: of the worker, of an attempt, or of the retry schedule. */
const defectPause = Duration.millis(500)

/** The shortest wait between two attempts, whatever the retry schedule says: never a tight loop. */
const minimumRetryMillis = 100

/**
 * The worker's loop, starting with `timer`. No yield between steps: a step that takes the wake-up
 * goes straight on to the flight in the same turn (with a yield, the request would wait for one
 * more turn of the scheduler). Every step either waits or runs one attempt, and the run loop's
 * operation budget still applies. It never ends but by interruption.
 */
export const run = (worker: Worker, timer: Timer | undefined): Effect.Effect<never> =>
  Effect.suspend(() => {
    const progress: Progress = { timer, retry: undefined }
    return Effect.forever(survive(step(worker, progress)), { disableYield: true })
  })

/** The worker never dies: an unexpected defect is logged, and the loop goes on after a pause. */
const survive = (self: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.catchCause(self, (cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.failCause(cause)
      : Effect.andThen(
        Effect.logError("Token worker failed unexpectedly; carrying on", cause),
        Effect.sleep(defectPause)
      ))

/** Runs the flight requested, or the one due, or waits for either. */
const step = (worker: Worker, progress: Progress): Effect.Effect<void> =>
  Effect.suspend(() => {
    const { state } = worker.cell
    const at = worker.now()
    const reading = state.entry !== undefined && state.revoked === undefined
      ? Report.expiresIn(state.entry.windows.expiresAt, at)
      : Effect.void
    const timer = progress.timer = current(progress.timer, state)
    const next: Effect.Effect<unknown> = state.flight !== undefined
      ? attempt(worker, progress, state.flight.reason)
      : timer === undefined || state.terminal !== undefined
      ? Queue.take(worker.wake)
      : at >= timer.at
      ? attempt(worker, progress, timer.reason)
      : Effect.timeoutOption(Queue.take(worker.wake), Duration.millis(timer.at - at))
    return Effect.andThen(reading, next)
  })

/** A timer for `reason` at `at`, for the state the worker holds now. */
const timerAt = (worker: Worker, at: number, reason: Reason): Timer => ({
  at,
  reason,
  generation: worker.cell.state.generation,
  access: worker.cell.state.entry?.access
})

/**
 * The worker's timer, or — when a newer token was adopted from the store since it was set (or since
 * attempts stopped) — the proactive refresh of that token: a follower refreshes on the adopted
 * token's schedule, not on its old one's.
 */
const current = (timer: Timer | undefined, state: State): Timer | undefined => {
  if (state.entry === undefined || state.flight !== undefined || state.terminal !== undefined) return timer
  const stale = timer === undefined || state.generation > timer.generation || state.entry.access !== timer.access
  return stale
    ? {
      at: state.entry.windows.refreshAt,
      reason: "proactive",
      generation: state.generation,
      access: state.entry.access
    }
    : timer
}

/**
 * One attempt for `reason` (or the flight a caller already requested), and what follows from it.
 * Only the request itself can be interrupted: the outcome, once there, always reaches the state and
 * the flight's callers. An outcome whose handling dies still fails the flight and pauses.
 */
const attempt = (worker: Worker, progress: Progress, reason: Reason): Effect.Effect<void> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const pending = yield* worker.cell.modify((state) => TokenState.attempt(state, reason, worker.request))
      const exit = yield* Effect.exit(restore(traced(Flight.run(worker.flight, pending.reason), pending)))
      progress.timer = yield* outcome(worker, progress, pending, exit).pipe(
        Effect.catchCause((cause) => abandoned(worker, progress, pending, cause))
      )
    })
  )

/**
 * An attempt as the root span `iocm.token.flight` (the login or refresh it makes is a child), linked
 * to the span of the caller whose call registered the flight: a trace of a business call shows the
 * flight it waited for, and the flight is not a child of whatever span the service was built in.
 */
const traced = <A, E>(self: Effect.Effect<A, E>, pending: Pending): Effect.Effect<A, E> =>
  Effect.withSpan(self, "iocm.token.flight", {
    root: true,
    attributes: { reason: pending.reason },
    links: pending.trigger === undefined ? [] : [{ span: pending.trigger, attributes: { "iocm.link": "caller" } }]
  })

const outcome = (
  worker: Worker,
  progress: Progress,
  pending: Pending,
  exit: Exit.Exit<Flight.Obtained, Flight.AttemptFailure>
): Effect.Effect<Timer | undefined> =>
  Exit.isSuccess(exit)
    ? succeeded(worker, progress, pending, exit.value)
    : Cause.hasInterruptsOnly(exit.cause)
    ? abandoned(worker, progress, pending, exit.cause)
    : failed(worker, progress, pending, exit.cause)

/**
 * The attempt was interrupted (the service is closing) or its outcome could not be handled: its
 * callers get the cause, and the next attempt waits for a pause.
 */
const abandoned = (
  worker: Worker,
  progress: Progress,
  pending: Pending,
  cause: Cause.Cause<unknown>
): Effect.Effect<Timer | undefined> =>
  Effect.gen(function*() {
    const at = worker.now()
    const retryAt = at + Duration.toMillis(defectPause)
    const errorCause = cause as Cause.Cause<never>
    const result = yield* worker.cell.modify((state) =>
      TokenState.failed(state, { cause: errorCause, terminal: undefined, retryAt, streakOf: undefined }, at)
    )
    yield* pending.outcome.done(Exit.failCause(errorCause))
    progress.retry = undefined
    if (Cause.hasInterruptsOnly(cause)) return undefined
    yield* Report.change(worker.events, {
      _tag: "Died",
      reason: pending.reason,
      cause,
      attempt: result.attempt,
      retryAt: result.retryAt!
    })
    return timerAt(worker, result.retryAt!, pending.reason)
  })

/**
 * The delay before the next attempt from the retry schedule (at least `minimumRetryMillis`), or
 * undefined when the schedule has ended; a schedule that dies gives the defect pause.
 */
const nextDelay = (
  worker: Worker,
  progress: Progress,
  input: TokenError | undefined
): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    const stepper = progress.retry ?? (yield* Schedule.toStep(worker.policy.retry))
    progress.retry = stepper
    const delay = yield* Pull.catchDone(stepper(worker.now(), input), () => Effect.succeed(undefined))
    return delay === undefined ? undefined : Math.max(minimumRetryMillis, Duration.toMillis(delay[1]))
  }).pipe(Effect.catchCause(() => Effect.succeed(Duration.toMillis(defectPause))))

const succeeded = (
  worker: Worker,
  progress: Progress,
  pending: Pending,
  obtained: Flight.Obtained
): Effect.Effect<Timer | undefined> =>
  Effect.gen(function*() {
    const at = worker.now()
    const entry = worker.entryOf(obtained.stored, yield* Random.next)
    const { expiresAt, refreshAt } = entry.windows
    if (expiresAt <= at) {
      const error = new ExpiredOnArrival({
        code: "ExpiredOnArrival",
        description: "The access token expired before the answer arrived.",
        expiresIn: obtained.stored.tokens.expiresIn,
        latencyMillis: at - obtained.sentAt
      })
      return yield* failed(
        worker,
        progress,
        pending,
        Cause.fail(new Flight.AttemptFailure(obtained.operation, error)),
        entry
      )
    }
    // A token already due for refresh: do not spin, back off (until expiry at the latest).
    const due = refreshAt <= at
    const delay = due ? yield* nextDelay(worker, progress, undefined) : undefined
    const backOffUntil = due ? Math.min(delay === undefined ? expiresAt : at + delay, expiresAt) : undefined
    if (!due) progress.retry = undefined
    yield* worker.cell.update((state) => TokenState.succeeded(state, entry, at, backOffUntil))
    yield* pending.outcome.done(Exit.succeed(entry.access))
    const nextAt = backOffUntil ?? refreshAt
    yield* Report.change(worker.events, {
      _tag: "Obtained",
      how: obtained.adopted ? "adopted" : obtained.operation,
      reason: obtained.reason,
      generation: entry.access.generation,
      expiresAt,
      refreshAt: nextAt,
      refreshToken: obtained.refreshToken,
      due,
      at
    })
    return { at: nextAt, reason: "proactive", generation: entry.access.generation, access: entry.access }
  })

/**
 * A failed attempt: `RefreshPolicy.classify` decides, the retry schedule says when, the state
 * records it, the flight's callers get the error, and the change is told. A defect is retried like
 * a failure. `arrived` is the token set of an answer that expired on arrival.
 */
const failed = (
  worker: Worker,
  progress: Progress,
  pending: Pending,
  cause: Cause.Cause<Flight.AttemptFailure>,
  arrived?: TokenState.Entry
): Effect.Effect<Timer | undefined> =>
  Effect.gen(function*() {
    const at = worker.now()
    const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
    const errorCause: Cause.Cause<TokenError> = Cause.map(cause, (f) => f.error)
    const streakOf = failure === undefined ? undefined : `${failure.error._tag}:${failure.error.code}`
    const attempt = TokenState.sameFailures(worker.cell.state, streakOf)
    const classification = failure === undefined
      ? "retry"
      : RefreshPolicy.classify(failure.error, { operation: failure.operation, attempt })
    const delay = classification === "terminal" ? undefined : yield* nextDelay(worker, progress, failure?.error)
    // A schedule that ended stops the attempts, as a terminal error does (a defect pauses instead).
    const terminal = failure !== undefined && delay === undefined ? failure.error : undefined
    const retryAt = at + (delay ?? Duration.toMillis(defectPause))
    const result = yield* worker.cell.modify((state) =>
      TokenState.failed(state, { cause: errorCause, terminal, retryAt, arrived, streakOf }, at)
    )
    yield* pending.outcome.done(Exit.failCause(errorCause))
    if (terminal !== undefined) progress.retry = undefined
    yield* Report.change(
      worker.events,
      failure === undefined
        ? { _tag: "Died", reason: pending.reason, cause, attempt, retryAt: result.retryAt! }
        : terminal !== undefined
        ? {
          _tag: "Terminal",
          reason: pending.reason,
          operation: failure.operation,
          error: terminal,
          scheduleEnded: classification !== "terminal",
          serving: result.serving
        }
        : {
          _tag: "Failed",
          reason: pending.reason,
          operation: failure.operation,
          error: failure.error,
          attempt: result.attempt,
          retryAt: result.retryAt!,
          serving: result.serving
        }
    )
    return result.retryAt === undefined
      ? undefined
      : timerAt(worker, result.retryAt, pending.reason)
  })

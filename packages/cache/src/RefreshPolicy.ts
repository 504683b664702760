/**
 * When `TokenService` refreshes, how long callers may be kept waiting, how it backs off after a
 * failure (an Effect `Schedule`), and the one decision about an error: retry, log in again, or
 * stop. Every knob has a safe default; the timing functions are pure so that the schedule can be
 * checked (and explained) without a clock.
 *
 * @since 0.1.0
 */
import * as IocmConfig from "@iocm/core/IocmConfig"
import type * as IocmError from "@iocm/core/IocmError"
import type { TokenSet } from "@iocm/core/TokenSet"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type { TokenError } from "./TokenError.js"
import type { Operation } from "./TokenEvent.js"

/**
 * The back-off between attempts. Its input is the error of the failed attempt, or `undefined` when
 * the attempt died or succeeded with a token already due for refresh; each output's delay is the
 * wait before the next attempt (at least 100 ms, whatever the schedule says), and a schedule that
 * ends stops the attempts as a terminal error does. It restarts after every success that brings a
 * token not yet due, and after a terminal error.
 *
 * @since 0.2.0
 * @category Models
 */
export type Retry = Schedule.Schedule<unknown, TokenError | undefined>

/**
 * The refresh policy of a `TokenService`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface RefreshPolicy {
  /** How long before expiry the background refresh is due (default 10 minutes). */
  readonly refreshLead: Duration.Duration
  /** Up to this much earlier still, drawn from `Random` per token, so that a fleet spreads out (default 2 minutes). */
  readonly jitter: Duration.Duration
  /** Inside this window before expiry, callers wait for the refresh in flight (default 30 seconds). */
  readonly forcedWindow: Duration.Duration
  /** The back-off after a failed attempt (default `backOff()`: exponential from 500 ms, full jitter, capped at 30 s). */
  readonly retry: Retry
  /**
   * How long a `get` with no valid token waits across failed attempts before it fails with the
   * latest error (default 30 seconds, the default request timeout), so that a service starting
   * while the platform blips does not fail its first callers. A caller that joins a flight already
   * in progress counts it from when that flight was requested.
   */
  readonly coldStartWait: Duration.Duration
  /**
   * A caller with no valid token cuts a back-off short once it has lasted this long (once per
   * back-off), so that a long back-off does not outlast the outage (default 5 seconds).
   */
  readonly shortenBackOffAfter: Duration.Duration
  /** The longest a `TokenStore` call may take before it counts as failed (default 5 seconds). */
  readonly storeTimeout: Duration.Duration
  /**
   * How often a service on a store shared by a fleet reads it for a newer token, besides the
   * store's announcements, which can be lost (default 30 seconds).
   */
  readonly followInterval: Duration.Duration
  /**
   * On a store shared by a fleet, a token obtained less than this long ago is not replaced when the
   * platform refuses it on a business call (1010005, 100002): the attempt waits instead, so that one
   * process whose calls are refused cannot drive the fleet into a refresh loop (default 10 seconds;
   * at most a tenth of the token's lifetime, so that a short-lived token is not left refused for
   * most of its life).
   */
  readonly invalidationCooldown: Duration.Duration
}

/**
 * Options of `make`: any subset of the policy, durations as `Duration.Input`s. `retryBase` and
 * `retryCap` shape the default back-off; `retry` replaces it.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly refreshLead?: Duration.Input | undefined
  readonly jitter?: Duration.Input | undefined
  readonly forcedWindow?: Duration.Input | undefined
  readonly retryBase?: Duration.Input | undefined
  readonly retryCap?: Duration.Input | undefined
  readonly retry?: Retry | undefined
  readonly coldStartWait?: Duration.Input | undefined
  readonly shortenBackOffAfter?: Duration.Input | undefined
  readonly storeTimeout?: Duration.Input | undefined
  readonly followInterval?: Duration.Input | undefined
  readonly invalidationCooldown?: Duration.Input | undefined
}

/**
 * An option of the policy is not a finite, non-negative duration, or `retryCap` is below
 * `retryBase`.
 *
 * @since 0.2.0
 * @category Errors
 */
export class InvalidRefreshPolicy extends Schema.TaggedError<InvalidRefreshPolicy>(
  "@iocm/cache/InvalidRefreshPolicy"
)("InvalidRefreshPolicy", {
  option: Schema.String,
  description: Schema.String
}) {
  /** @since 0.2.0 */
  override get message(): string {
    return `InvalidRefreshPolicy (${this.option}): ${this.description}`
  }
}

/**
 * The default back-off: before attempt `n + 1` after `n` consecutive failures, a uniform draw
 * between `base` and `min(cap, base · 2ⁿ⁻¹)` from `Random` (full jitter, floored at `base` so that
 * no draw retries at once). Never ends.
 *
 * @example
 * ```ts
 * import { RefreshPolicy } from "@iocm/cache"
 * import { Schedule } from "effect"
 *
 * // At most five attempts in a row, then stop (as for a terminal error) until TokenService.refresh.
 * const retry = RefreshPolicy.backOff({ base: "1 second", cap: "1 minute" }).pipe(Schedule.upTo({ times: 5 }))
 * ```
 *
 * @since 0.2.0
 * @category Scheduling
 */
export const backOff = (
  options: { readonly base?: Duration.Input | undefined; readonly cap?: Duration.Input | undefined } = {}
): Schedule.Schedule<Duration.Duration> => {
  const base = Duration.toMillis(Duration.fromInputUnsafe(options.base ?? defaultRetryBase))
  const cap = Math.max(base, Duration.toMillis(Duration.fromInputUnsafe(options.cap ?? defaultRetryCap)))
  return Schedule.exponential(base).pipe(
    Schedule.modifyDelay(({ duration }) =>
      Effect.map(Random.next, (random) => {
        const bound = Math.min(cap, Duration.toMillis(duration))
        return Duration.millis(Math.floor(base + (bound - base) * random))
      })
    )
  )
}

const defaultRetryBase = Duration.millis(500)
const defaultRetryCap = Duration.seconds(30)

/**
 * The default policy: lead 10 minutes, jitter up to 2 minutes, forced window 30 seconds, back-off
 * `backOff()` (500 ms to 30 seconds, full jitter), cold-start wait 30 seconds, back-offs cut short
 * after 5 seconds, store calls bounded by 5 seconds, a shared store read every 30 seconds, a fleet's
 * token refused on a business call replaced no sooner than 10 seconds after it was obtained.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const defaults: RefreshPolicy = {
  refreshLead: Duration.minutes(10),
  jitter: Duration.minutes(2),
  forcedWindow: Duration.seconds(30),
  retry: backOff(),
  coldStartWait: Duration.seconds(30),
  shortenBackOffAfter: Duration.seconds(5),
  storeTimeout: Duration.seconds(5),
  followInterval: Duration.seconds(30),
  invalidationCooldown: Duration.seconds(10)
}

/** `input` as a finite, non-negative duration, `fallback` when absent. */
const durationOption = (
  option: keyof Options,
  input: Duration.Input | undefined,
  fallback: Duration.Duration
): Effect.Effect<Duration.Duration, InvalidRefreshPolicy> => {
  if (input === undefined) return Effect.succeed(fallback)
  const duration = Option.getOrUndefined(Duration.fromInput(input))
  if (duration === undefined || !Duration.isFinite(duration) || Duration.isNegative(duration)) {
    return Effect.fail(
      new InvalidRefreshPolicy({
        option,
        description: `expected a finite, non-negative duration such as "30 seconds", got ${describeInput(input)}`
      })
    )
  }
  return Effect.succeed(duration)
}

const describeInput = (input: unknown): string =>
  typeof input === "string"
    ? JSON.stringify(input)
    : Duration.isDuration(input)
    ? Duration.format(input)
    : String(input)

/** The default back-off from `retryBase` and `retryCap` when either is given. */
const retryOf = (options: Options): Effect.Effect<Retry, InvalidRefreshPolicy> =>
  Effect.gen(function*() {
    if (options.retry !== undefined) return options.retry
    if (options.retryBase === undefined && options.retryCap === undefined) return defaults.retry
    const base = yield* durationOption("retryBase", options.retryBase, defaultRetryBase)
    const cap = yield* durationOption("retryCap", options.retryCap, defaultRetryCap)
    if (Duration.isLessThan(cap, base) || Duration.isZero(base)) {
      return yield* Effect.fail(
        new InvalidRefreshPolicy({
          option: Duration.isZero(base) ? "retryBase" : "retryCap",
          description: Duration.isZero(base)
            ? "the first back-off must be longer than zero"
            : `the largest back-off (${Duration.format(cap)}) is below the first (${Duration.format(base)})`
        })
      )
    }
    return backOff({ base, cap })
  })

/**
 * A policy from the defaults and the given options (or a whole policy, returned as it is checked).
 * An option that is not a finite, non-negative duration (or a zero `storeTimeout` or `retryBase`)
 * fails with `InvalidRefreshPolicy`.
 *
 * @example
 * ```ts
 * import { RefreshPolicy } from "@iocm/cache"
 * import { Effect } from "effect"
 *
 * const policy = Effect.runSync(RefreshPolicy.make({ refreshLead: "5 minutes", jitter: "30 seconds" }))
 * ```
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options | RefreshPolicy = {}): Effect.Effect<RefreshPolicy, InvalidRefreshPolicy> =>
  Effect.gen(function*() {
    const { retry: _, ...durations } = options
    const read = <K extends keyof typeof durations & keyof RefreshPolicy>(key: K) =>
      durationOption(key, durations[key] as Duration.Input | undefined, defaults[key] as Duration.Duration)
    const storeTimeout = yield* read("storeTimeout")
    if (Duration.isZero(storeTimeout)) {
      return yield* Effect.fail(
        new InvalidRefreshPolicy({ option: "storeTimeout", description: "a store call must be given longer than zero" })
      )
    }
    return {
      refreshLead: yield* read("refreshLead"),
      jitter: yield* read("jitter"),
      forcedWindow: yield* read("forcedWindow"),
      retry: yield* retryOf(options as Options),
      coldStartWait: yield* read("coldStartWait"),
      shortenBackOffAfter: yield* read("shortenBackOffAfter"),
      storeTimeout,
      followInterval: yield* read("followInterval"),
      invalidationCooldown: yield* read("invalidationCooldown")
    }
  })

/**
 * The policy's options read through `Config`, every key optional: `IOCM_REFRESH_LEAD`,
 * `IOCM_REFRESH_JITTER`, `IOCM_FORCED_WINDOW`, `IOCM_RETRY_BASE`, `IOCM_RETRY_CAP`,
 * `IOCM_COLD_START_WAIT`, `IOCM_STORE_TIMEOUT`, `IOCM_FOLLOW_INTERVAL` (durations such as `5 minutes`, or a number of
 * seconds). An invalid value fails.
 *
 * @since 0.2.0
 * @category Config
 */
export const envConfig: Config.Config<Options> = Config.all({
  refreshLead: optionalDuration("IOCM_REFRESH_LEAD"),
  jitter: optionalDuration("IOCM_REFRESH_JITTER"),
  forcedWindow: optionalDuration("IOCM_FORCED_WINDOW"),
  retryBase: optionalDuration("IOCM_RETRY_BASE"),
  retryCap: optionalDuration("IOCM_RETRY_CAP"),
  coldStartWait: optionalDuration("IOCM_COLD_START_WAIT"),
  storeTimeout: optionalDuration("IOCM_STORE_TIMEOUT"),
  followInterval: optionalDuration("IOCM_FOLLOW_INTERVAL")
})

function optionalDuration(name: string): Config.Config<Duration.Duration | undefined> {
  return IocmConfig.duration(name).pipe(Config.option, Config.map(Option.getOrUndefined))
}

/**
 * The policy read through `config` (default `envConfig`): a `ConfigError` for a variable that is
 * not valid, an `InvalidRefreshPolicy` for options that are not valid together.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const config = (
  options: Config.Config<Options> = envConfig
): Effect.Effect<RefreshPolicy, Config.ConfigError | InvalidRefreshPolicy> => Effect.flatMap(options, make)

/**
 * The moments that matter for one access token, epoch milliseconds.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Windows {
  /** When the background refresh is due. */
  readonly refreshAt: number
  /** From this moment on, callers wait for the refresh in flight. */
  readonly forcedAt: number
  /** When the access token expires: `issuedAt + expiresIn` (counted from when the request was sent). */
  readonly expiresAt: number
}

/**
 * The windows of a token set. `random` is a number in `[0, 1)` (from Effect's `Random`) choosing the
 * jitter. For tokens too short for the configured windows, the windows shrink with the token's
 * lifetime `L`: the lead is at most `L/2`, the jitter at most `L/4`, and the forced window at most
 * `L/10` and never longer than the lead — so a 5-second token is refreshed after 1.25 to 2.5
 * seconds, never in a loop.
 *
 * @since 0.1.0
 * @category Scheduling
 */
export const windows = (
  policy: RefreshPolicy,
  tokens: Pick<TokenSet, "issuedAt" | "expiresIn">,
  random: number
): Windows => {
  const lifetime = tokens.expiresIn * 1000
  const expiresAt = tokens.issuedAt + lifetime
  const lead = Math.min(Duration.toMillis(policy.refreshLead), lifetime / 2)
  const jitter = Math.min(Duration.toMillis(policy.jitter), lifetime / 4)
  const forced = Math.min(Duration.toMillis(policy.forcedWindow), lifetime / 10, lead)
  return {
    refreshAt: Math.floor(expiresAt - lead - jitter * random),
    forcedAt: expiresAt - forced,
    expiresAt
  }
}

/**
 * What to do after a failed attempt:
 *
 * - `relogin`: the refresh token is refused (`RefreshTokenRejected`, 100006) or cannot be sent (a
 *   refresh failing `detectedLocally`): drop it and log in, once.
 * - `retry`: back off (the `retry` schedule) and try again. Errors that say they are `retryable`
 *   (transport, 5xx, `ExpiredOnArrival`), and — for their first `unknownErrorAttempts` consecutive
 *   attempts — errors whose meaning is unknown (`UnknownPlatformError`, `MalformedResponse`).
 * - `terminal`: stop until `TokenService.refresh`: credentials, frozen account or app, invalid or
 *   missing parameters, and errors of unknown meaning that persist past `unknownErrorAttempts`.
 *   A still-valid token keeps being served until it expires.
 *
 * `attempt` counts the consecutive attempts that failed with this same error (its tag and code),
 * this one included (1 for the first): a streak of transport errors does not use up the attempts
 * of a malformed answer that follows, and `TokenService.refresh` starts every count again.
 *
 * @since 0.2.0
 * @category Retrying
 */
export const classify = (
  error: TokenError | IocmError.RefreshError,
  context: { readonly operation: Operation; readonly attempt: number }
): Classification => {
  if (error._tag === "RefreshTokenRejected") return "relogin"
  if (context.operation === "refresh" && "detectedLocally" in error && error.detectedLocally) return "relogin"
  if (error.retryable) return "retry"
  if (definitive.has(error._tag)) return "terminal"
  return context.attempt < unknownErrorAttempts ? "retry" : "terminal"
}

/**
 * The decision of `classify`.
 *
 * @since 0.2.0
 * @category Retrying
 */
export type Classification = "retry" | "relogin" | "terminal"

/**
 * How many consecutive attempts an error of unknown meaning that says it is not retryable (an
 * unknown 4xx code, a malformed answer) gets before it is terminal: enough to ride out a
 * misbehaving gateway, few enough not to hammer a platform that keeps refusing.
 *
 * @since 0.2.0
 * @category Retrying
 */
export const unknownErrorAttempts = 3

/** The errors whose meaning is known and that retrying cannot fix. */
const definitive: ReadonlySet<string> = new Set([
  "InvalidCredentials",
  "AccountFrozen",
  "ApplicationFrozen",
  "InvalidInput",
  "MissingParameter"
])

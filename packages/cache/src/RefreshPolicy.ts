/**
 * When `TokenService` refreshes, how long callers may be kept waiting, and how it backs off after
 * a failure. Every knob has a safe default; the timing functions are pure so that the schedule can
 * be checked (and explained) without a clock.
 *
 * @since 0.1.0
 */
import type { TokenSet } from "@iocm/core/TokenSet"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

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
  /** First back-off bound after a failed refresh or login; doubles per consecutive failure (default 500 ms). */
  readonly retryBase: Duration.Duration
  /** Largest back-off bound (default 30 seconds). */
  readonly retryCap: Duration.Duration
  /** Longest a single login or refresh request may take before it counts as a `TransportError` (default 30 s, as the vendor SDK). */
  readonly requestTimeout: Duration.Duration
}

/**
 * Options of `make`: any subset of the policy, as durations or duration strings.
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
  readonly requestTimeout?: Duration.Input | undefined
}

/**
 * The default policy: lead 10 minutes, jitter up to 2 minutes, forced window 30 seconds, back-off
 * from 500 ms to 30 seconds with full jitter, request timeout 30 seconds.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const defaults: RefreshPolicy = {
  refreshLead: Duration.minutes(10),
  jitter: Duration.minutes(2),
  forcedWindow: Duration.seconds(30),
  retryBase: Duration.millis(500),
  retryCap: Duration.seconds(30),
  requestTimeout: Duration.seconds(30)
}

const nonNegative = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration => {
  if (input === undefined || ((typeof input === "number" || typeof input === "bigint") && input < 0)) return fallback
  // A negative duration (such as "-5 seconds") counts as zero, as Effect 3's durations did.
  return Option.match(Duration.fromInput(input), {
    onNone: () => fallback,
    onSome: (duration) => Duration.isFinite(duration) ? Duration.max(duration, Duration.zero) : fallback
  })
}

/**
 * A policy from the defaults and the given options. Negative, infinite or unreadable durations are
 * ignored (the default is kept); `retryBase` and `requestTimeout` are at least 1 ms and `retryCap` is at
 * least `retryBase`.
 *
 * @example
 * ```ts
 * import { RefreshPolicy } from "@iocm/cache"
 *
 * const policy = RefreshPolicy.make({ refreshLead: "5 minutes", jitter: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options | RefreshPolicy = {}): RefreshPolicy => {
  const atLeastOneMilli = (duration: Duration.Duration) => Duration.max(duration, Duration.millis(1))
  const retryBase = atLeastOneMilli(nonNegative(options.retryBase, defaults.retryBase))
  return {
    refreshLead: nonNegative(options.refreshLead, defaults.refreshLead),
    jitter: nonNegative(options.jitter, defaults.jitter),
    forcedWindow: nonNegative(options.forcedWindow, defaults.forcedWindow),
    retryBase,
    retryCap: Duration.max(nonNegative(options.retryCap, defaults.retryCap), retryBase),
    requestTimeout: atLeastOneMilli(nonNegative(options.requestTimeout, defaults.requestTimeout))
  }
}

/**
 * The policy read through `Config`, every key optional: `IOCM_REFRESH_LEAD`, `IOCM_REFRESH_JITTER`,
 * `IOCM_FORCED_WINDOW`, `IOCM_RETRY_BASE`, `IOCM_RETRY_CAP`, `IOCM_REQUEST_TIMEOUT` (durations such
 * as `5 minutes`).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const config: Effect.Effect<RefreshPolicy, Config.ConfigError> = Effect.map(
  Config.all({
    refreshLead: Config.option(Config.Duration("IOCM_REFRESH_LEAD")),
    jitter: Config.option(Config.Duration("IOCM_REFRESH_JITTER")),
    forcedWindow: Config.option(Config.Duration("IOCM_FORCED_WINDOW")),
    retryBase: Config.option(Config.Duration("IOCM_RETRY_BASE")),
    retryCap: Config.option(Config.Duration("IOCM_RETRY_CAP")),
    requestTimeout: Config.option(Config.Duration("IOCM_REQUEST_TIMEOUT"))
  }),
  (options) =>
    make({
      refreshLead: Option.getOrUndefined(options.refreshLead),
      jitter: Option.getOrUndefined(options.jitter),
      forcedWindow: Option.getOrUndefined(options.forcedWindow),
      retryBase: Option.getOrUndefined(options.retryBase),
      retryCap: Option.getOrUndefined(options.retryCap),
      requestTimeout: Option.getOrUndefined(options.requestTimeout)
    })
)

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
 * The back-off before retry number `attempt` (1 for the first retry): the bound grows exponentially
 * from `retryBase` and is capped at `retryCap`; the delay is drawn uniformly between `retryBase` and
 * that bound (full jitter, floored at `retryBase` so that no draw of `random`, in `[0, 1)`, ever
 * retries at once).
 *
 * @since 0.1.0
 * @category Scheduling
 */
export const retryDelay = (policy: RefreshPolicy, attempt: number, random: number): Duration.Duration => {
  const base = Duration.toMillis(policy.retryBase)
  const cap = Duration.toMillis(policy.retryCap)
  const bound = Math.min(cap, base * Math.pow(2, Math.max(0, Math.min(attempt - 1, 52))))
  return Duration.millis(Math.floor(base + (bound - base) * random))
}

/**
 * The metrics `TokenService` records. They are keyed by name and attributes only (no description,
 * default options), so `Metric.counter("iocm_token_refresh_total")` elsewhere reads the same metric.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"

/**
 * Refresh attempts, with the attributes `outcome` (`success`, or the error's tag such as
 * `TransportError`) and `reason` (see `TokenEvent.Reason`).
 *
 * @since 0.1.0
 * @category Metrics
 */
export const refreshTotal: Metric.Counter<number> = Metric.counter("iocm_token_refresh_total")

/**
 * Login attempts, with the attributes `outcome` and `reason` like `refreshTotal`.
 *
 * @since 0.1.0
 * @category Metrics
 */
export const loginTotal: Metric.Counter<number> = Metric.counter("iocm_token_login_total")

/**
 * Boundaries of `refreshDuration`, seconds: 5 ms to about 41 s, doubling.
 *
 * @since 0.1.0
 * @category Metrics
 */
export const refreshDurationBoundaries: ReadonlyArray<number> = Metric.exponentialBoundaries({
  start: 0.005,
  factor: 2,
  count: 14
})

/**
 * Duration of each login and refresh request in seconds, with the attribute `operation` (`login` or
 * `refresh`).
 *
 * @since 0.1.0
 * @category Metrics
 */
export const refreshDuration: Metric.Histogram<number> = Metric.histogram("iocm_token_refresh_duration_seconds", {
  boundaries: refreshDurationBoundaries
})

/**
 * When the access token in force expires, in seconds since the epoch: set whenever a token is
 * obtained or adopted. Unlike `secondsToExpiry` it cannot go stale — alert on
 * `iocm_token_expiry_timestamp_seconds - time() < 60` — and a service whose attempts fail keeps the
 * expiry of the token it still serves.
 *
 * @since 0.2.0
 * @category Metrics
 */
export const expiryTimestamp: Metric.Gauge<number> = Metric.gauge("iocm_token_expiry_timestamp_seconds")

/**
 * Seconds until the current access token expires, set at every change and every wake-up of the
 * background fiber: a snapshot, stale between two of them (during an outage it reads the time left
 * when the worker last woke); prefer `expiryTimestamp`.
 *
 * @since 0.1.0
 * @category Metrics
 */
export const secondsToExpiry: Metric.Gauge<number> = Metric.gauge("iocm_token_seconds_to_expiry")

/**
 * Attempts that stopped for good (see `RefreshPolicy.classify`), with the attribute `error` (the
 * error's tag): alert on it, as no attempt starts again until `TokenService.refresh`.
 *
 * @since 0.2.0
 * @category Metrics
 */
export const terminalTotal: Metric.Counter<number> = Metric.counter("iocm_token_terminal_total")

/**
 * Calls to a shared `TokenStore` that failed or did not answer in time, with the attribute
 * `operation` (`get`, `set` or `lock`).
 *
 * @since 0.2.0
 * @category Metrics
 */
export const storeFailures: Metric.Counter<number> = Metric.counter("iocm_token_store_failures_total")

/**
 * Whether the shared `TokenStore` answers, as this process sees it: 1, or 0 from its first failure
 * until its next answer.
 *
 * @since 0.2.0
 * @category Metrics
 */
export const storeAvailable: Metric.Gauge<number> = Metric.gauge("iocm_token_store_available")

/**
 * Times this process found the shared `TokenStore` empty (e.g. a Redis restarted without
 * persistence) and seeded it again with its valid token.
 *
 * @since 0.2.0
 * @category Metrics
 */
export const storeReseeds: Metric.Counter<number> = Metric.counter("iocm_token_store_reseeds_total")

/**
 * `@iocm/cache`: `TokenService`, which keeps one valid access token for the whole program — proactive,
 * single-flight refresh with retries and re-login — and signs business calls with it.
 *
 * @since 0.1.0
 */

/**
 * Keeps the app's business calls within the platform's flow control: `limited` waits for a slot of the budget.
 *
 * @since 0.2.0
 */
export * as FlowControl from "./FlowControl.js"

/**
 * When `TokenService` refreshes, how long callers may wait, and how it backs off after a failure.
 *
 * @since 0.1.0
 */
export * as RefreshPolicy from "./RefreshPolicy.js"

/**
 * What `TokenService.get` and `refresh` can fail with.
 *
 * @since 0.1.0
 */
export * as TokenError from "./TokenError.js"

/**
 * The events `TokenService.changes` publishes, one per change of the token state.
 *
 * @since 0.1.0
 */
export * as TokenEvent from "./TokenEvent.js"

/**
 * The metrics `TokenService` records.
 *
 * @since 0.1.0
 */
export * as TokenMetrics from "./TokenMetrics.js"

/**
 * The token lifecycle: `yield* TokenService.get` anywhere for a valid access token, and `authenticated` clients.
 *
 * @since 0.1.0
 */
export * as TokenService from "./TokenService.js"

/**
 * Where `TokenService` keeps the token state: in memory by default, or a store shared by a fleet.
 *
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

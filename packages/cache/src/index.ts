/**
 * @since 0.1.0
 */
export * as RefreshPolicy from "./RefreshPolicy.js"

/**
 * @since 0.1.0
 */
export * as TokenError from "./TokenError.js"

/**
 * @since 0.1.0
 */
export * as TokenEvent from "./TokenEvent.js"

/**
 * @since 0.1.0
 */
export * as TokenMetrics from "./TokenMetrics.js"

/**
 * @since 0.1.0
 */
export * as TokenService from "./TokenService.js"

/**
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

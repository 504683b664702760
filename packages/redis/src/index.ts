/**
 * `@iocm/redis`: fleet mode for iocm — `@iocm/cache`'s `TokenStore` on Redis.
 *
 * @since 0.2.0
 */

/**
 * Flow control for a fleet: `@iocm/cache`'s `FlowControl` budget counted in Redis, one per appId.
 *
 * @since 0.2.0
 */
export * as RateLimit from "./RateLimit.js"

/**
 * The token store on Redis: a lease per appId, compare-and-set writes, tokens encrypted at rest.
 *
 * @since 0.2.0
 */
export * as TokenStore from "./TokenStore.js"

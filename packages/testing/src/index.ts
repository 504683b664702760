/**
 * `@iocm/testing`: the test helpers every suite of the workspace shares. Private, never published;
 * only test code imports it.
 *
 * @since 0.0.0
 */

/**
 * The committed TEST-ONLY certificates.
 *
 * @since 0.0.0
 */
export * as Certificates from "./Certificates.js"

/**
 * An in-memory, scripted `IocmAuth`.
 *
 * @since 0.0.0
 */
export * as FakeAuth from "./FakeAuth.js"

/**
 * Log lines dropped or captured, never printed.
 *
 * @since 0.0.0
 */
export * as Logs from "./Logs.js"

/**
 * Listening on loopback for the life of a scope.
 *
 * @since 0.0.0
 */
export * as Loopback from "./Loopback.js"

/**
 * A throwaway `redis-server`, killable and restartable.
 *
 * @since 0.0.0
 */
export * as Redis from "./Redis.js"

/**
 * A tracer that keeps its spans.
 *
 * @since 0.0.0
 */
export * as Spans from "./Spans.js"

/**
 * The scripted HTTPS server.
 *
 * @since 0.0.0
 */
export * as TestServer from "./TestServer.js"

/**
 * Token bodies and token sets.
 *
 * @since 0.0.0
 */
export * as Tokens from "./Tokens.js"

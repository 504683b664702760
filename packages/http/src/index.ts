/**
 * `@iocm/http`: `HttpClient` layers for the OceanConnect platform — undici with mutual TLS, a proxy, a
 * pool and timeouts — and fetch for other runtimes.
 *
 * @since 0.1.0
 */

/**
 * The transport to the OceanConnect northbound API: `HttpClient` layers on undici (mutual TLS, proxy,
 * pool, timeouts) and on fetch.
 *
 * @since 0.1.0
 */
export * as IocmHttp from "./IocmHttp.js"

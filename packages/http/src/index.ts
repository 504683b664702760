/**
 * @since 0.1.0
 */

/**
 * The transport to the OceanConnect northbound API: `HttpClient` layers on undici (mutual TLS, proxy,
 * pool, timeouts) and on fetch.
 *
 * @since 0.1.0
 */
export * as IocmHttp from "./IocmHttp.js"

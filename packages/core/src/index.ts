/**
 * `@iocm/core`: the OceanConnect northbound authentication protocol — login, refresh, the token set,
 * the platform's configuration and one tagged error per platform code — over any `HttpClient`.
 *
 * @since 0.1.0
 */

/**
 * The platform's login and refresh APIs as Effects, one request per call.
 *
 * @since 0.1.0
 */
export * as IocmAuth from "./IocmAuth.js"

/**
 * The building blocks for reading the `IOCM_*` variables: durations, required variables, `IOCM_TIMEOUT`.
 *
 * @since 0.2.0
 */
export * as IocmConfig from "./IocmConfig.js"

/**
 * One tagged error per meaning of the platform's error codes, plus transport and malformed responses.
 *
 * @since 0.1.0
 */
export * as IocmError from "./IocmError.js"

/**
 * Where the platform is and who the application is: base URL, appId, secret and their variables.
 *
 * @since 0.1.0
 */
export * as PlatformConfig from "./PlatformConfig.js"

/**
 * The tokens the platform issued, with when they expire.
 *
 * @since 0.1.0
 */
export * as TokenSet from "./TokenSet.js"

/**
 * The platform's wire format as Schemas, shared by the client and the simulator.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

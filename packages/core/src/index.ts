/**
 * @since 0.1.0
 */
export * as IocmAuth from "./IocmAuth.js"

/**
 * @since 0.1.0
 */
export * as IocmError from "./IocmError.js"

/**
 * @since 0.1.0
 */
export * as PlatformConfig from "./PlatformConfig.js"

/**
 * @since 0.1.0
 */
export * as TokenSet from "./TokenSet.js"

/**
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

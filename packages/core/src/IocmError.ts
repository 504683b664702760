/**
 * One tagged error per meaning of the platform's error codes, plus transport and malformed
 * responses. Every error carries `code`, `httpStatus`, `description` and `retryable`, and its
 * `message` names the code and the recommended handling, never a secret or a token.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** A string field that the constructor fills with `value` when it is not given. */
const defaultString = (value: string) => Schema.String.pipe(Schema.withConstructorDefault(Effect.succeed(value)))

/** A boolean field that the constructor fills with `value` when it is not given. */
const defaultBoolean = (value: boolean) => Schema.Boolean.pipe(Schema.withConstructorDefault(Effect.succeed(value)))

const platformFields = (code: string) => ({
  /** The platform's error code, as a string (default: the documented code of the class). */
  code: defaultString(code),
  /** HTTP status of the response; absent when no response was received or the error was found locally. */
  httpStatus: Schema.optional(Schema.Number),
  /** The platform's text as received, with any known secret or token masked. */
  description: defaultString("")
})

const localFields = (code: string) => ({
  ...platformFields(code),
  /** True when the library found the problem before sending anything. */
  detectedLocally: defaultBoolean(false)
})

const where = (self: { readonly code: string; readonly httpStatus?: number | undefined }) =>
  self.httpStatus === undefined ? self.code : `${self.code}, HTTP ${self.httpStatus}`

const describe = ({ description }: { readonly description: string }) =>
  description === "" ? "" : ` ${description}${/[.!?]$/.test(description) ? "" : "."}`

/**
 * 100449: the user behind the appId has no permission ("The device is freezed cant operate.").
 *
 * @since 0.1.0
 * @category Errors
 */
export class AccountFrozen extends Schema.TaggedError<AccountFrozen>("@iocm/core/AccountFrozen")("AccountFrozen", {
  ...platformFields("100449"),
  retryable: defaultBoolean(false)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `AccountFrozen (${where(this)}):${
      describe(this)
    } Check that the user behind the appId may call this API; retrying will not help.`
  }
}

/**
 * 102202: a mandatory parameter was missing or empty.
 *
 * @since 0.1.0
 * @category Errors
 */
export class MissingParameter
  extends Schema.TaggedError<MissingParameter>("@iocm/core/MissingParameter")("MissingParameter", {
    ...localFields("102202"),
    retryable: defaultBoolean(false)
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `MissingParameter (${where(this)}):${describe(this)}${
      this.detectedLocally ? " Detected locally; nothing was sent." : ""
    } Set the mandatory parameters (appId, secret, refreshToken).`
  }
}

/**
 * 50400 or 100022: a parameter is invalid (too long, or with control characters).
 *
 * @since 0.1.0
 * @category Errors
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>("@iocm/core/InvalidInput")("InvalidInput", {
  ...localFields("50400"),
  retryable: defaultBoolean(false)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `InvalidInput (${where(this)}):${describe(this)}${
      this.detectedLocally ? " Detected locally; nothing was sent." : ""
    } Check that the parameters are valid (at most 256 characters, no control characters).`
  }
}

/**
 * 100208: the appId or secret is not right.
 *
 * @since 0.1.0
 * @category Errors
 */
export class InvalidCredentials
  extends Schema.TaggedError<InvalidCredentials>("@iocm/core/InvalidCredentials")("InvalidCredentials", {
    ...platformFields("100208"),
    retryable: defaultBoolean(false)
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `InvalidCredentials (${where(this)}):${
      describe(this)
    } Check the appId and secret for new or missing characters, and that the platform address is right.`
  }
}

/**
 * 50252 or 100008: an internal error of the platform; worth retrying with back-off.
 *
 * @since 0.1.0
 * @category Errors
 */
export class PlatformInternalError
  extends Schema.TaggedError<PlatformInternalError>("@iocm/core/PlatformInternalError")("PlatformInternalError", {
    ...platformFields("50252"),
    retryable: defaultBoolean(true)
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `PlatformInternalError (${where(this)}):${
      describe(this)
    } An internal error of the IoT platform: retry with back-off; if it persists, contact the platform's maintainers.`
  }
}

/**
 * 100006: the refresh token expired, is wrong or belongs to another appId; log in again.
 *
 * @since 0.1.0
 * @category Errors
 */
export class RefreshTokenRejected
  extends Schema.TaggedError<RefreshTokenRejected>("@iocm/core/RefreshTokenRejected")("RefreshTokenRejected", {
    ...platformFields("100006"),
    retryable: defaultBoolean(false)
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `RefreshTokenRejected (${where(this)}):${
      describe(this)
    } The refresh token expired, was already used or belongs to another app: log in again.`
  }
}

/**
 * 100247: the application has been frozen.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ApplicationFrozen
  extends Schema.TaggedError<ApplicationFrozen>("@iocm/core/ApplicationFrozen")("ApplicationFrozen", {
    ...platformFields("100247"),
    retryable: defaultBoolean(false)
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `ApplicationFrozen (${where(this)}):${
      describe(this)
    } The application is frozen on the platform: have it unfrozen; retrying will not help.`
  }
}

/**
 * Any other platform error code, kept as received; retryable when the status is 5xx.
 *
 * @since 0.1.0
 * @category Errors
 */
export class UnknownPlatformError
  extends Schema.TaggedError<UnknownPlatformError>("@iocm/core/UnknownPlatformError")("UnknownPlatformError", {
    ...platformFields(""),
    /** The platform's error code, as a string. */
    code: Schema.String,
    retryable: Schema.Boolean
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `UnknownPlatformError (${where(this)}):${describe(this)} A code this library does not know; ${
      this.retryable ? "the status is 5xx, so retrying with back-off may help." : "retrying will not help."
    }`
  }
}

/**
 * No complete response was received: connection refused or reset, TLS failure, timeout, or a
 * body cut off after the headers (then `httpStatus` is set and what came of the body is dropped).
 *
 * @since 0.1.0
 * @category Errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@iocm/core/TransportError")("TransportError", {
  ...platformFields("Transport"),
  retryable: defaultBoolean(true)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `TransportError (${where(this)}):${
      describe(this)
    } No complete response from the platform: check the address, network and TLS settings; retry with back-off.`
  }
}

/**
 * A response that is not what the platform sends: a 2xx that does not decode as a token set, or
 * an error status whose body is not the platform's error JSON (HTML, empty, truncated). Keeps at
 * most 200 characters of the body, with tokens and secrets masked; retryable when 5xx.
 *
 * @since 0.1.0
 * @category Errors
 */
export class MalformedResponse
  extends Schema.TaggedError<MalformedResponse>("@iocm/core/MalformedResponse")("MalformedResponse", {
    ...platformFields("MalformedResponse"),
    /** At most 200 characters of the body, tokens and secrets masked. */
    body: defaultString(""),
    retryable: defaultBoolean(false)
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `MalformedResponse (${where(this)}):${describe(this)} The answer is not the platform's JSON${
      this.body === "" ? " (empty body)" : ""
    }; a proxy or load balancer may be in the way${this.retryable ? ", retry with back-off" : ""}.`
  }
}

/**
 * Everything `IocmAuth.login` can fail with.
 *
 * @since 0.1.0
 * @category Errors
 */
export type LoginError =
  | AccountFrozen
  | MissingParameter
  | InvalidInput
  | InvalidCredentials
  | PlatformInternalError
  | ApplicationFrozen
  | UnknownPlatformError
  | TransportError
  | MalformedResponse

/**
 * Schema of `LoginError`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const LoginError: Schema.Union<
  readonly [
    typeof AccountFrozen,
    typeof MissingParameter,
    typeof InvalidInput,
    typeof InvalidCredentials,
    typeof PlatformInternalError,
    typeof ApplicationFrozen,
    typeof UnknownPlatformError,
    typeof TransportError,
    typeof MalformedResponse
  ]
> = Schema.Union([
  AccountFrozen,
  MissingParameter,
  InvalidInput,
  InvalidCredentials,
  PlatformInternalError,
  ApplicationFrozen,
  UnknownPlatformError,
  TransportError,
  MalformedResponse
])

/**
 * Everything `IocmAuth.refresh` can fail with: a login error, or `RefreshTokenRejected`.
 *
 * @since 0.1.0
 * @category Errors
 */
export type RefreshError = LoginError | RefreshTokenRejected

/**
 * Schema of `RefreshError`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const RefreshError: Schema.Union<readonly [typeof LoginError, typeof RefreshTokenRejected]> = Schema.Union([
  LoginError,
  RefreshTokenRejected
])

/**
 * Converts a decoded platform error body and its HTTP status to the tagged error of its code.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const fromPlatformError = (
  error: { readonly code: string; readonly description: string },
  httpStatus: number
): RefreshError => {
  const fields = { code: error.code, description: error.description, httpStatus }
  switch (error.code) {
    case "100449":
      return new AccountFrozen(fields)
    case "102202":
      return new MissingParameter(fields)
    case "50400":
    case "100022":
      return new InvalidInput(fields)
    case "100208":
      return new InvalidCredentials(fields)
    case "50252":
    case "100008":
      return new PlatformInternalError(fields)
    case "100006":
      return new RefreshTokenRejected(fields)
    case "100247":
      return new ApplicationFrozen(fields)
    default:
      return new UnknownPlatformError({ ...fields, retryable: httpStatus >= 500 })
  }
}

/**
 * The words of a request that missed its deadline, the same for every timeout of iocm —
 * `IocmAuth`'s bound on a login or refresh as a whole and `@iocm/http`'s deadline per request:
 * `request timed out: no complete answer within 30s`.
 *
 * @since 0.2.0
 * @category Messages
 */
export const timeoutDescription = (timeout: Duration.Duration): string =>
  `request timed out: no complete answer within ${Duration.format(timeout)}`

/**
 * The platform's wire format: paths, request bodies, the token response and the error body, as
 * Schemas. The client (`IocmAuth`) and the simulator both speak through these, so they cannot
 * drift apart silently.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { isBearer, tokenPattern } from "./internal/tokenRules.js"

/**
 * Path of the Authentication (login) API.
 *
 * @since 0.1.0
 * @category Paths
 */
export const loginPath = "/iocm/app/sec/v1.1.0/login"

/**
 * Path of the Refreshing a Token API.
 *
 * @since 0.1.0
 * @category Paths
 */
export const refreshPath = "/iocm/app/sec/v1.1.0/refreshToken"

/**
 * Path of the device query, a harmless authenticated business API.
 *
 * @since 0.1.0
 * @category Paths
 */
export const devicesPath = "/iocm/app/dm/v1.4.0/devices"

/**
 * Longest value the platform accepts for `appId`, `secret` and `refreshToken` (`String(256)`).
 *
 * @since 0.1.0
 * @category Limits
 */
export const maxParameterLength = 256

/**
 * Body of the login request, sent as `application/x-www-form-urlencoded`.
 *
 * @since 0.1.0
 * @category Requests
 */
export const LoginRequest = Schema.Struct({
  appId: Schema.String,
  secret: Schema.RedactedFromValue(Schema.String)
})

/**
 * Decoded login request.
 *
 * @since 0.1.0
 * @category Requests
 */
export type LoginRequest = typeof LoginRequest.Type

/**
 * Body of the refresh request, sent as `application/json`.
 *
 * @since 0.1.0
 * @category Requests
 */
export const RefreshRequest = Schema.Struct({
  appId: Schema.String,
  secret: Schema.RedactedFromValue(Schema.String),
  refreshToken: Schema.RedactedFromValue(Schema.String)
})

/**
 * Decoded refresh request.
 *
 * @since 0.1.0
 * @category Requests
 */
export type RefreshRequest = typeof RefreshRequest.Type

/**
 * Encodes a login request to the form fields the platform reads, through `LoginRequest` (compiled
 * once: a call costs a few microseconds).
 *
 * @since 0.2.0
 * @category Requests
 */
export const encodeLoginRequest: (request: LoginRequest) => typeof LoginRequest.Encoded = Schema.encodeSync(
  LoginRequest
)

/**
 * Encodes a refresh request to the JSON object the platform reads, through `RefreshRequest`
 * (compiled once: a call costs a few microseconds).
 *
 * @since 0.2.0
 * @category Requests
 */
export const encodeRefreshRequest: (request: RefreshRequest) => typeof RefreshRequest.Encoded = Schema.encodeSync(
  RefreshRequest
)

/**
 * Longest `expiresIn` accepted, seconds (2^31 − 1, about 68 years): anything longer is not a
 * lifetime but garbage, and would overflow a `Date`.
 *
 * @since 0.1.0
 * @category Limits
 */
export const maxExpiresIn = 2_147_483_647

/**
 * `expiresIn` as the platform sends it: a JSON number, or a numeric string (as in the vendor's
 * example); either way a positive whole number of seconds.
 *
 * @since 0.1.0
 * @category Responses
 */
export const ExpiresIn = Schema.Union([
  Schema.Number,
  Schema.String.pipe(Schema.check(Schema.isPattern(/^\d{1,15}$/)), Schema.decodeTo(Schema.NumberFromString))
]).pipe(
  Schema.check(Schema.isInt(), Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(maxExpiresIn)),
  Schema.annotate({ identifier: "ExpiresIn" })
)

/**
 * `tokenType`: must be "bearer", compared case-insensitively (real platforms send "bearer",
 * the documents say "Bearer").
 *
 * @since 0.1.0
 * @category Responses
 */
export const TokenType = Schema.String.pipe(
  Schema.check(Schema.makeFilter(isBearer, { message: "tokenType is not \"bearer\"" }))
)

/**
 * A token as it may travel in a header: visible ASCII, no space, no control character.
 *
 * @since 0.1.0
 * @category Responses
 */
export const Token = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(tokenPattern, { message: "a token must be visible ASCII characters, without spaces" })
  )
)

/** A string that may be absent or `null` on the wire, decoded to `fallback` then. */
const stringOr = (fallback: string) =>
  Schema.optional(Schema.NullOr(Schema.String)).pipe(Schema.decodeTo(Schema.String, {
    decode: SchemaGetter.transformOptional((value) =>
      value.pipe(Option.filter(Predicate.isNotNullish), Option.orElseSome(() => fallback))
    ),
    encode: SchemaGetter.passthrough()
  }))

/** A refresh token that may be absent, `null` or empty on the wire (all three are none), else a `Token`. */
const OptionalToken = Schema.optional(Schema.NullOr(Schema.String)).pipe(
  Schema.decodeTo(
    Schema.Option(Schema.RedactedFromValue(Token)),
    SchemaTransformation.transformOptional({
      decode: (value) =>
        Option.some(Option.filter(value, (token): token is string => Predicate.isString(token) && token !== "")),
      encode: Option.flatten
    })
  )
)

/**
 * The 200 body of login and refresh. `refreshToken` is absent or `null` on platforms older
 * than V100R001C30 (an empty one counts as absent); a missing or `null` `scope` is "default".
 * Tokens must be header-safe (`Token`).
 *
 * @since 0.1.0
 * @category Responses
 */
export const TokenResponse = Schema.Struct({
  accessToken: Schema.RedactedFromValue(Token),
  tokenType: TokenType,
  expiresIn: ExpiresIn,
  refreshToken: OptionalToken,
  scope: stringOr("default")
})

/**
 * Decoded token response.
 *
 * @since 0.1.0
 * @category Responses
 */
export type TokenResponse = typeof TokenResponse.Type

const ErrorCode = Schema.Union([Schema.String, Schema.Int]).pipe(
  Schema.decodeTo(
    Schema.NonEmptyString,
    SchemaTransformation.transform({ decode: (code) => String(code).trim(), encode: (code) => code })
  )
)

/**
 * The documented error body, `{"error_code":"100208","error_desc":"…"}`; the code may be a
 * string or a number and is normalised to a trimmed string; a missing or `null` description is "".
 *
 * @since 0.1.0
 * @category Responses
 */
export const ErrorBody = Schema.Struct({
  error_code: ErrorCode,
  error_desc: stringOr("")
})

/**
 * The alias error body seen on business APIs, `{"resultcode":"1010005","resultmsg":"…"}`.
 *
 * @since 0.1.0
 * @category Responses
 */
export const ResultBody = Schema.Struct({
  resultcode: ErrorCode,
  resultmsg: stringOr("")
})

/**
 * A platform error, normalised from either body shape.
 *
 * @since 0.1.0
 * @category Responses
 */
export const PlatformError = Schema.Struct({ code: Schema.String, description: Schema.String })

/**
 * A normalised platform error.
 *
 * @since 0.1.0
 * @category Responses
 */
export type PlatformError = typeof PlatformError.Type

/**
 * Decodes either error body shape to `{ code, description }`.
 *
 * @since 0.1.0
 * @category Responses
 */
export const PlatformErrorBody = Schema.Union([
  ErrorBody.pipe(Schema.decodeTo(
    PlatformError,
    SchemaTransformation.transform({
      decode: (body) => ({ code: body.error_code, description: body.error_desc }),
      encode: (error) => ({ error_code: error.code, error_desc: error.description })
    })
  )),
  ResultBody.pipe(Schema.decodeTo(
    PlatformError,
    SchemaTransformation.transform({
      decode: (body) => ({ code: body.resultcode, description: body.resultmsg }),
      encode: (error) => ({ resultcode: error.code, resultmsg: error.description })
    })
  ))
])

/**
 * Encodes an error as the platform does: `{"error_code":"…","error_desc":"…"}`.
 *
 * @since 0.1.0
 * @category Responses
 */
export const encodeErrorBody = (error: PlatformError): typeof ErrorBody.Encoded => ({
  error_code: error.code,
  error_desc: error.description
})

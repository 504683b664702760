/**
 * Turning what came back over HTTP into a `TokenSet` or the tagged error of its meaning.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Headers from "effect/http/Headers"
import type * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Stream from "effect/Stream"
import { fromPlatformError, MalformedResponse, type RefreshError, TransportError } from "../IocmError.js"
import { maxExpiresIn, PlatformErrorBody, TokenResponse } from "../Wire.js"
import { maskCode, maskDescription, maskedExcerpt, maskSecrets } from "./mask.js"
import { isBearer, tokenPattern } from "./tokenRules.js"

/**
 * Largest response body read; the platform's bodies are a few hundred bytes.
 *
 * @internal
 */
export const maxBodyBytes = 64 * 1024

const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { code, message } = current as { readonly code?: unknown; readonly message?: unknown }
    const part = [typeof code === "string" ? code : undefined, typeof message === "string" ? message : undefined]
      .filter((s) => s !== undefined && s !== "").join(": ")
    if (part !== "" && !parts.includes(part)) parts.push(part)
    current = (current as { readonly cause?: unknown }).cause
  }
  return parts.join("; ")
}

/**
 * Our `TransportError.code` for each reason of Effect's `HttpClientError`: the names the codes have
 * always had (`Transport`, `Encode`, `InvalidUrl` for the request; `Response…` for the response).
 */
const transportCodes: Record<HttpClientError.HttpClientErrorReason["_tag"], string> = {
  TransportError: "Transport",
  EncodeError: "Encode",
  InvalidUrlError: "InvalidUrl",
  StatusCodeError: "ResponseStatusCode",
  DecodeError: "ResponseDecode",
  EmptyBodyError: "ResponseEmptyBody"
}

/**
 * A `TransportError` for a request that got no complete response.
 *
 * @internal
 */
export const transportError = (error: HttpClientError.HttpClientError, known: ReadonlyArray<string>): TransportError =>
  new TransportError({
    code: transportCodes[error.reason._tag],
    description: maskSecrets(
      error.reason.description !== undefined && error.reason.description !== ""
        ? error.reason.description
        : describeCause(error.reason.cause),
      known
    )
  })

/** A response whose body broke off: what came is dropped (it may hold part of a token). */
const cutOffError = (
  status: number,
  where: string,
  error: HttpClientError.HttpClientError,
  known: ReadonlyArray<string>
): TransportError => {
  const cause = transportError(error, known)
  return new TransportError({
    code: cause.code,
    httpStatus: status,
    description: `The response body was cut off ${where} (${cause.description}).`
  })
}

const decodeTokenResponse = Schema.decodeUnknownResult(TokenResponse)
const decodePlatformError = Schema.decodeUnknownOption(PlatformErrorBody)

interface Body {
  readonly text: string
  readonly tooLarge: boolean
  /** The body broke off before its end: no complete response, so a `TransportError`. */
  readonly cutOff: Option.Option<TransportError>
}

/**
 * The declared `content-length` when it is a plain number no larger than `maxBodyBytes` and the
 * body is not encoded (a fetch client would inflate a compressed body past its declared length).
 */
const smallDeclaredLength = (headers: Headers.Headers): number | undefined => {
  const header = headers["content-length"]
  const encoding = headers["content-encoding"]
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") return undefined
  if (header === undefined || !/^\d{1,9}$/.test(header)) return undefined
  const length = Number(header)
  return length <= maxBodyBytes ? length : undefined
}

/**
 * A body of a declared, bounded length is read at once (the platform's bodies are; it is the
 * fast path, a third of a refresh's latency less than streaming); any other is streamed up to
 * `maxBodyBytes` (plus one chunk). A body that breaks off is reported, not failed.
 */
const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  known: ReadonlyArray<string>
): Effect.Effect<Body> => {
  const declared = smallDeclaredLength(headers)
  return declared === undefined ? streamBody(response, known) : Effect.match(response.text, {
    onFailure: (error): Body => ({
      text: "",
      tooLarge: false,
      cutOff: Option.some(cutOffError(response.status, `before its declared ${declared} bytes`, error, known))
    }),
    onSuccess: (text): Body => ({ text, tooLarge: false, cutOff: Option.none() })
  })
}

/**
 * Whether the response has no body at all (a 204, 205 or 304, or any null-body response of a fetch
 * client): the platform answered, with nothing, which is an empty body and not one cut off.
 */
const isNoBody = (error: HttpClientError.HttpClientError): boolean => error.reason._tag === "EmptyBodyError"

/** A body of unknown length, streamed up to `maxBodyBytes` (plus one chunk). */
const streamBody = (response: HttpClientResponse.HttpClientResponse, known: ReadonlyArray<string>) =>
  Effect.suspend((): Effect.Effect<Body> => {
    const decoder = new TextDecoder()
    let text = ""
    let size = 0
    return response.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          text += decoder.decode(chunk, { stream: true })
          size += chunk.length
          return size <= maxBodyBytes
        })
      ),
      Effect.result,
      Effect.map((result): Body => ({
        text: text + decoder.decode(),
        tooLarge: size > maxBodyBytes,
        cutOff: Result.isFailure(result) && !isNoBody(result.failure)
          ? Option.some(cutOffError(response.status, `after ${size} bytes`, result.failure, known))
          : Option.none()
      }))
    )
  })

/**
 * Deepest nesting of arrays and objects accepted in a body; the platform's bodies have one level.
 * Every walk of a decoded body (the schemas', their issues', the masking's) is then bounded by it.
 *
 * @internal
 */
export const maxNestingDepth = 32

const [quote, backslash, openBrace, closeBrace, openBracket, closeBracket] = ["\"", "\\", "{", "}", "[", "]"]
  .map((character) => character.charCodeAt(0))

/**
 * Whether the JSON `text` nests arrays and objects deeper than `maxNestingDepth`: one pass over its
 * characters (skipping strings) that stops at the first level too deep, and walks no value.
 */
const isNestedTooDeeply = (text: string): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === backslash) i++
      else if (code === quote) inString = false
    } else if (code === quote) {
      inString = true
    } else if (code === openBrace || code === openBracket) {
      if (++depth > maxNestingDepth) return true
    } else if (code === closeBrace || code === closeBracket) {
      depth--
    }
  }
  return false
}

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const issuePaths = (error: Schema.SchemaError): string => {
  const paths = formatIssues(error.issue).issues.map(({ path = [] }) =>
    path.length === 0
      ? "(body)"
      : path.map((segment) => String(typeof segment === "object" ? segment.key : segment)).join(".")
  )
  return [...new Set(paths)].join(", ")
}

/**
 * The token response of a body in the shape the platform sends (every token a header-safe string,
 * `expiresIn` a JSON number, `scope` a string, `null` or absent), decoded as `TokenResponse` would
 * decode it; `undefined` for any other shape, which is then left to the schema (a numeric string
 * `expiresIn`, or a body it refuses, with the paths at fault). Decoding through the schema is about
 * a fifth of a refresh's CPU: its `Redacted` and `Option` fields are each checked twice, on the way in
 * and again as values of their type.
 *
 * @internal
 */
export const decodeCanonical = (json: unknown): TokenResponse | undefined => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined
  const { accessToken, expiresIn, refreshToken, scope, tokenType } = json as Record<string, unknown>
  // the checks of `Wire.Token`, `Wire.TokenType` and `Wire.ExpiresIn`
  if (typeof accessToken !== "string" || !tokenPattern.test(accessToken)) return undefined
  if (typeof tokenType !== "string" || !isBearer(tokenType)) return undefined
  if (typeof expiresIn !== "number" || !Number.isSafeInteger(expiresIn)) return undefined
  if (expiresIn <= 0 || expiresIn > maxExpiresIn) return undefined
  // absent, `null` and "" are no refresh token
  const noRefreshToken = refreshToken === undefined || refreshToken === null || refreshToken === ""
  if (!noRefreshToken && (typeof refreshToken !== "string" || !tokenPattern.test(refreshToken))) return undefined
  if (scope !== undefined && scope !== null && typeof scope !== "string") return undefined
  return {
    accessToken: Redacted.make(accessToken),
    tokenType,
    expiresIn,
    refreshToken: noRefreshToken ? Option.none() : Option.some(Redacted.make(refreshToken)),
    scope: scope ?? "default"
  }
}

/**
 * The token response of a 2xx JSON body: the fast path, else the schema, else the tagged error of
 * the platform's code when the body is an error body after all.
 */
const decodeTokenBody = (
  json: unknown,
  status: number,
  known: ReadonlyArray<string>,
  malformed: (description: string) => MalformedResponse
): Effect.Effect<TokenResponse, RefreshError> => {
  const canonical = decodeCanonical(json)
  if (canonical !== undefined) return Effect.succeed(canonical)
  const decoded = decodeTokenResponse(json)
  if (Result.isSuccess(decoded)) return Effect.succeed(decoded.success)
  const platformError = decodePlatformError(json)
  return Option.isSome(platformError)
    ? maskedPlatformError(platformError.value, status, known)
    : Effect.fail(malformed(`The body is not a token set (at ${issuePaths(decoded.failure)}).`))
}

/** What a body read in full means: the token response, or the tagged error of what is wrong with it. */
const interpretBody = (
  status: number,
  headers: Headers.Headers,
  { cutOff, text, tooLarge }: Body,
  known: ReadonlyArray<string>
): Effect.Effect<TokenResponse, RefreshError> => {
  const malformed = (description: string, retryable = status >= 500) =>
    new MalformedResponse({ httpStatus: status, description, body: maskedExcerpt(text, known), retryable })
  if (Option.isSome(cutOff)) {
    return Effect.fail(cutOff.value)
  }
  if (tooLarge) {
    return Effect.fail(malformed(`The body is larger than ${maxBodyBytes} bytes.`))
  }
  if (status >= 300 && status < 400) {
    return Effect.fail(malformed(
      `The platform answered with a redirect (to ${
        maskSecrets(headers["location"] ?? "nowhere", known)
      }); redirects are not followed, so the request and its secrets are never sent elsewhere.`
    ))
  }
  const json = parseJson(text)
  if (Option.isNone(json)) {
    return Effect.fail(malformed(text.trim() === "" ? "The body is empty." : "The body is not JSON."))
  }
  if (isNestedTooDeeply(text)) {
    return Effect.fail(malformed(`The body is nested too deeply (more than ${maxNestingDepth} levels).`))
  }
  if (status >= 200 && status < 300) {
    return decodeTokenBody(json.value, status, known, malformed)
  }
  const platformError = decodePlatformError(json.value)
  return Option.isSome(platformError)
    ? maskedPlatformError(platformError.value, status, known)
    : Effect.fail(malformed("The body is not the platform's error JSON."))
}

/**
 * Reads a response of login or refresh: the decoded token response on a 2xx token body, else the
 * tagged error of the platform's code, else `MalformedResponse`. `known` lists the secrets sent,
 * to be masked in whatever is kept of the body.
 *
 * @internal
 */
export const readTokenResponse = (
  response: HttpClientResponse.HttpClientResponse,
  known: ReadonlyArray<string>
): Effect.Effect<TokenResponse, RefreshError> => {
  // Read once: a client may build the headers anew on each access (platform-node's undici response does).
  const headers = response.headers
  return Effect.flatMap(
    readBody(response, headers, known),
    (body) => interpretBody(response.status, headers, body, known)
  )
}

/**
 * The tagged error of a platform error body, its description masked. A documented code is kept as
 * received (it names the error's class); any other is masked like a description, since it is copied
 * into the error's `code` and message.
 */
const maskedPlatformError = (
  error: { readonly code: string; readonly description: string },
  status: number,
  known: ReadonlyArray<string>
) => {
  const description = maskDescription(error.description, known)
  const byCode = fromPlatformError({ code: error.code, description }, status)
  return Effect.fail(
    byCode._tag === "UnknownPlatformError"
      ? fromPlatformError({ code: maskCode(error.code, known), description }, status)
      : byCode
  )
}

/**
 * Turning what came back over HTTP into a `TokenSet` or the tagged error of its meaning.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Stream from "effect/Stream"
import { fromPlatformError, MalformedResponse, type RefreshError, TransportError } from "../IocmError.js"
import { PlatformErrorBody, TokenResponse } from "../Wire.js"
import { maskDescription, maskedExcerpt, maskSecrets } from "./mask.js"

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
const smallDeclaredLength = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
  const header = response.headers["content-length"]
  const encoding = response.headers["content-encoding"]
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
const readBody = (response: HttpClientResponse.HttpClientResponse, known: ReadonlyArray<string>) =>
  Effect.suspend((): Effect.Effect<Body> => {
    const declared = smallDeclaredLength(response)
    if (declared !== undefined) {
      return Effect.match(response.text, {
        onFailure: (error): Body => ({
          text: "",
          tooLarge: false,
          cutOff: Option.some(cutOffError(response.status, `before its declared ${declared} bytes`, error, known))
        }),
        onSuccess: (text): Body => ({ text, tooLarge: false, cutOff: Option.none() })
      })
    }
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
        cutOff: Result.isFailure(result)
          ? Option.some(cutOffError(response.status, `after ${size} bytes`, result.failure, known))
          : Option.none()
      }))
    )
  })

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
 * Reads a response of login or refresh: the decoded token response on a 2xx token body, else the
 * tagged error of the platform's code, else `MalformedResponse`. `known` lists the secrets sent,
 * to be masked in whatever is kept of the body.
 *
 * @internal
 */
export const readTokenResponse = (
  response: HttpClientResponse.HttpClientResponse,
  known: ReadonlyArray<string>
): Effect.Effect<TokenResponse, RefreshError> =>
  Effect.gen(function*() {
    const status = response.status
    const ok = status >= 200 && status < 300
    const { cutOff, text, tooLarge } = yield* readBody(response, known)
    const malformed = (description: string, retryable = status >= 500) =>
      new MalformedResponse({ httpStatus: status, description, body: maskedExcerpt(text, known), retryable })
    if (Option.isSome(cutOff)) {
      return yield* cutOff.value
    }
    if (tooLarge) {
      return yield* malformed(`The body is larger than ${maxBodyBytes} bytes.`)
    }
    if (status >= 300 && status < 400) {
      return yield* malformed(
        `The platform answered with a redirect (to ${
          maskSecrets(response.headers["location"] ?? "nowhere", known)
        }); redirects are not followed, so the request and its secrets are never sent elsewhere.`
      )
    }
    const json = parseJson(text)
    if (Option.isNone(json)) {
      return yield* malformed(text.trim() === "" ? "The body is empty." : "The body is not JSON.")
    }
    if (ok) {
      const decoded = decodeTokenResponse(json.value)
      if (Result.isSuccess(decoded)) return decoded.success
      const platformError = decodePlatformError(json.value)
      if (Option.isSome(platformError)) {
        return yield* maskedPlatformError(platformError.value, status, known)
      }
      return yield* malformed(`The body is not a token set (at ${issuePaths(decoded.failure)}).`)
    }
    const platformError = decodePlatformError(json.value)
    if (Option.isSome(platformError)) {
      return yield* maskedPlatformError(platformError.value, status, known)
    }
    return yield* malformed("The body is not the platform's error JSON.")
  })

const maskedPlatformError = (
  error: { readonly code: string; readonly description: string },
  status: number,
  known: ReadonlyArray<string>
) =>
  Effect.fail(
    fromPlatformError(
      { code: maskSecrets(error.code, known), description: maskDescription(error.description, known) },
      status
    )
  )

/**
 * The authenticated `HttpClient` middleware: signs each request with the app key and the current
 * access token, and on the platform's "invalid token" answer replays it once with a fresh token.
 *
 * @internal
 */
import * as Wire from "@iocm/core/Wire"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { TokenError } from "../TokenError.js"
import type { Reason } from "../TokenEvent.js"
import type { AccessToken, Service } from "../TokenService.js"

/**
 * Largest error body read to look for the platform's code; larger bodies are passed on untouched.
 *
 * @internal
 */
export const maxInspectedBytes = 64 * 1024

const decodePlatformError = Schema.decodeUnknownOption(Wire.PlatformErrorBody)

const rejection = (status: number, code: string | undefined): Reason | undefined => {
  if (status !== 403 && status !== 401) return undefined
  if (code === "1010005") return "1010005"
  if (code === "100002") return "100002"
  return undefined
}

/**
 * An error response after `inspect`.
 *
 * @internal
 */
export interface Inspected {
  /** The response to hand on: its body is still readable. */
  readonly response: HttpClientResponse.HttpClientResponse
  /** The platform's error code, when the body is its error JSON. */
  readonly code: string | undefined
}

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

const codeOf = (bytes: Uint8Array): string | undefined => {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
  return Option.getOrUndefined(Option.map(decodePlatformError(json), (error) => error.code))
}

/**
 * Reads at most `maxInspectedBytes` of an error response and decodes the platform's code, then
 * rebuilds the response so that the caller can still read the whole body (the bytes read, then
 * whatever remained, then the error the original body failed with, if any).
 *
 * @internal
 */
export const inspect = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<Inspected> =>
  Effect.gen(function*() {
    const declared = Number(response.headers["content-length"])
    if (Number.isFinite(declared) && declared > maxInspectedBytes) {
      return { response, code: undefined }
    }
    const reader = (yield* Stream.toReadableStreamEffect(response.stream)).getReader()
    const chunks: Array<Uint8Array> = []
    let size = 0
    let done = false
    let failure: { readonly error: unknown } | undefined
    while (!done && failure === undefined && size <= maxInspectedBytes) {
      const result = yield* Effect.tryPromise(() => reader.read()).pipe(
        Effect.catch((error) => Effect.sync(() => ({ failed: error.cause })))
      )
      if ("failed" in result) {
        failure = { error: result.failed }
      } else if (result.done) {
        done = true
      } else {
        chunks.push(result.value)
        size += result.value.length
      }
    }
    const body = done
      ? concat(chunks, size)
      : new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk)
          if (failure !== undefined) controller.error(failure.error)
        },
        async pull(controller) {
          const next = await reader.read()
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        },
        cancel(reason) {
          return reader.cancel(reason)
        }
      })
    const rebuilt = HttpClientResponse.fromWeb(
      response.request,
      new Response(body, { status: response.status, headers: response.headers })
    )
    return { response: rebuilt, code: done ? codeOf(body as Uint8Array) : undefined }
  })

/**
 * The app-key settings the middleware signs with.
 *
 * @internal
 */
export interface Settings {
  readonly appId: string
  readonly appKeyHeader: string
}

const sign = (request: HttpClientRequest.HttpClientRequest, settings: Settings, token: AccessToken) =>
  request.pipe(
    HttpClientRequest.setHeader(settings.appKeyHeader, settings.appId),
    HttpClientRequest.bearerToken(token.token)
  )

/**
 * The slow path, after a 401 or 403: reads the platform's code and, on "invalid token",
 * invalidates the token that was sent and replays the request once with a fresh one.
 */
const onRefused = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  service: Service,
  settings: Settings,
  request: HttpClientRequest.HttpClientRequest,
  token: AccessToken,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, E | TokenError, R> =>
  Effect.gen(function*() {
    const inspected = yield* inspect(response)
    const reason = rejection(response.status, inspected.code)
    // A streamed body cannot be sent twice.
    if (reason === undefined || request.body._tag === "Stream") return inspected.response
    yield* service.invalidate(token.generation, reason)
    const fresh = yield* service.get
    if (fresh.generation === token.generation) return inspected.response
    yield* Effect.logDebug("Access token refused by the platform; replaying once with a fresh token").pipe(
      Effect.annotateLogs({
        code: inspected.code,
        status: response.status,
        method: request.method,
        generation: token.generation,
        freshGeneration: fresh.generation
      })
    )
    // Replayed once; whatever comes back now is returned as is.
    return yield* client.execute(sign(request, settings, fresh)).pipe(
      Effect.withSpan("iocm.token.replay", {
        attributes: {
          code: inspected.code,
          status: response.status,
          generation: token.generation,
          freshGeneration: fresh.generation
        }
      })
    )
  })

/**
 * Sends one request through `client`, signed with the current token of `service`; on the
 * platform's "invalid token" answer, invalidates that token and replays the request once. The
 * common case (any status but 401 and 403) is two `flatMap`s over the client's own work.
 *
 * @internal
 */
export const execute = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  service: Service,
  settings: Settings,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, E | TokenError, R> =>
  Effect.flatMap(service.get, (token) =>
    Effect.flatMap(
      client.execute(sign(request, settings, token)),
      (response): Effect.Effect<HttpClientResponse.HttpClientResponse, E | TokenError, R> =>
        response.status !== 403 && response.status !== 401
          ? Effect.succeed(response)
          : onRefused(client, service, settings, request, token, response)
    ))

/**
 * The middleware over a client, with a given service and settings.
 *
 * @internal
 */
export const make = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  service: Service,
  settings: Settings
): HttpClient.HttpClient.With<E | TokenError, R> =>
  HttpClient.makeWith<never, never, E | TokenError, R>(
    (request) => Effect.flatMap(request, (request) => execute(client, service, settings, request)),
    Effect.succeed
  )

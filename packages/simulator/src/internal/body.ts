/**
 * Request-body reading with a hard size limit, and the platform's parameter checks.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as Schema from "effect/Schema"
import type * as Http from "node:http"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { reject, specs } from "./errors.js"

/**
 * Reads the body as UTF-8 text, refusing more than `maxBytes`: a declared `Content-Length` over
 * the limit is refused before a byte is read, and a chunked body is counted as it arrives. Once
 * refused, the rest of the body is discarded as it comes, never buffered.
 *
 * @internal
 */
export const readText = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<string, PlatformReject> =>
  Effect.callback<string, PlatformReject>((resume) => {
    // The simulator serves HTTP/1.1 only (`node:http` / `node:https`), never HTTP/2.
    const source = NodeHttpServerRequest.toIncomingMessage(request) as Http.IncomingMessage
    const declared = Number(source.headers["content-length"])
    if (Number.isFinite(declared) && declared > maxBytes) {
      resume(Effect.fail(reject(specs.bodyTooLarge)))
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let done = false
    let answering: NodeJS.Immediate | undefined
    const cleanup = () => {
      clearImmediate(answering)
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.off("aborted", onError)
    }
    const finish = (result: Effect.Effect<string, PlatformReject>) => {
      if (done) return
      done = true
      cleanup()
      resume(result)
    }
    function onData(chunk: Buffer) {
      size += chunk.length
      if (size > maxBytes) {
        chunks.length = 0
        // Keep the connection readable so the client gets the answer; drop whatever else arrives.
        source.resume()
        finish(Effect.fail(reject(specs.bodyTooLarge)))
      } else {
        chunks.push(chunk)
      }
    }
    function onEnd() {
      const text = Buffer.concat(chunks).toString("utf8")
      // Resume in the event loop's check phase, not inside the socket's read callback: an answer
      // written from there woke the client, which then preempted the server about once a request
      // under load (twice the CPU per request, a third of the throughput in the simulator figure).
      answering = setImmediate(() => finish(Effect.succeed(text)))
    }
    function onError() {
      // The client went away: yield first, so that the server's interruption of this request
      // (the connection closed) wins and an answer nobody can read is neither counted nor logged.
      finish(Effect.andThen(Effect.yieldNow, Effect.fail(reject(specs.invalidInput))))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    source.on("aborted", onError)
    return Effect.sync(cleanup)
  })

/**
 * Whether the request's `Content-Type`, parameters such as `charset` aside, is `expected`.
 *
 * @internal
 */
export const hasContentType = (request: HttpServerRequest.HttpServerRequest, expected: string): boolean =>
  (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase() === expected

/**
 * The wanted fields of a form-urlencoded body, and whether finding one took the platform's
 * leniency (its name matched only without regard to case).
 *
 * @internal
 */
export interface FormFields {
  readonly values: Record<string, string | undefined>
  readonly ignoredCase: boolean
}

/**
 * Parses a form-urlencoded body into the first value of each wanted field. Like the platform,
 * field names are matched without regard to case (`Secret`, `APPID`) when no field has the exact
 * name.
 *
 * @internal
 */
export const formFields = (text: string, fields: ReadonlyArray<string>): FormFields => {
  const params = Array.from(new URLSearchParams(text))
  const values: Record<string, string | undefined> = {}
  let ignoredCase = false
  for (const field of fields) {
    const exact = params.find(([name]) => name === field)
    const anyCase = exact ?? params.find(([name]) => name.toLowerCase() === field.toLowerCase())
    values[field] = anyCase?.[1]
    ignoredCase ||= exact === undefined && anyCase !== undefined
  }
  return { values, ignoredCase }
}

/**
 * Parses a JSON body: an empty body is an empty object (so its fields are "missing"); anything
 * that is not a JSON object is `invalid` (by default the security API's 50400).
 *
 * @internal
 */
export const jsonObject = (
  text: string,
  invalid: ErrorSpec = specs.invalidInput
): Effect.Effect<Record<string, unknown>, PlatformReject> => {
  if (text.trim() === "") return Effect.succeed({})
  return Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: () => reject(invalid)
  }).pipe(
    Effect.filterOrFail(
      (u): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u),
      () => reject(invalid)
    )
  )
}

/**
 * The platform's parameter checks, in its order: a missing, `null` or empty mandatory field is
 * 102202; a field of the wrong type or longer than `maxLength` characters is 50400. Then the
 * fields are decoded with the wire schema, whose decoder is built once, here.
 *
 * @internal
 */
export const validator = <A, I>(
  schema: Schema.Codec<A, I>,
  fields: ReadonlyArray<string>,
  maxLength: number
): (raw: Record<string, unknown>) => Effect.Effect<A, PlatformReject> => {
  const decode = Schema.decodeUnknownExit(schema)
  return (raw) => {
    for (const field of fields) {
      const value = raw[field]
      if (value === undefined || value === null || value === "") {
        return Effect.fail(reject(specs.missingParameter))
      }
    }
    for (const field of fields) {
      const value = raw[field]
      if (typeof value !== "string" || value.length > maxLength) {
        return Effect.fail(reject(specs.invalidInput))
      }
    }
    return Effect.mapError(decode(raw), () => reject(specs.invalidInput))
  }
}

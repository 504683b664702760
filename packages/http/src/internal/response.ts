/**
 * A response that adds a description to the `ResponseError`s its body fails with (today: the body
 * inactivity timeout), and otherwise delegates everything to the response it wraps.
 *
 * @internal
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Stream from "effect/Stream"

/** @internal */
export class DescribedResponse implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    readonly original: HttpClientResponse.HttpClientResponse,
    readonly describe: (cause: unknown) => string | undefined
  ) {}

  private readonly mapError = (error: HttpClientError.ResponseError): HttpClientError.ResponseError => {
    if (error.description !== undefined || error.cause === undefined) return error
    const description = this.describe(error.cause)
    return description === undefined ? error : new HttpClientError.ResponseError({
      request: error.request,
      response: error.response,
      reason: error.reason,
      cause: error.cause,
      description
    })
  }

  get request(): HttpClientRequest.HttpClientRequest {
    return this.original.request
  }

  get status() {
    return this.original.status
  }

  get headers() {
    return this.original.headers
  }

  get cookies() {
    return this.original.cookies
  }

  get remoteAddress() {
    return this.original.remoteAddress
  }

  get formData() {
    return Effect.mapError(this.original.formData, this.mapError)
  }

  get text() {
    return Effect.mapError(this.original.text, this.mapError)
  }

  get json() {
    return Effect.mapError(this.original.json, this.mapError)
  }

  get urlParamsBody() {
    return Effect.mapError(this.original.urlParamsBody, this.mapError)
  }

  get arrayBuffer() {
    return Effect.mapError(this.original.arrayBuffer, this.mapError)
  }

  get stream() {
    return Stream.mapError(this.original.stream, this.mapError)
  }

  toJSON() {
    return this.original.toJSON()
  }

  toString() {
    return Inspectable.format(this.toJSON())
  }

  [Inspectable.NodeInspectSymbol]() {
    return this.toJSON()
  }
}

/**
 * A response whose body reads go through given functions (to describe their errors, to bound
 * them by the request's deadline) and which otherwise delegates everything to the response it
 * wraps.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import * as Formatter from "effect/Formatter"
import type * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as UrlParams from "effect/http/UrlParams"
import * as Inspectable from "effect/Inspectable"
import { pipeArguments } from "effect/Pipeable"
import type * as Stream from "effect/Stream"

/**
 * What a {@link WrappedResponse} does around each body read.
 *
 * @internal
 */
export interface BodyHooks {
  readonly effect: <A>(
    read: Effect.Effect<A, HttpClientError.HttpClientError>
  ) => Effect.Effect<A, HttpClientError.HttpClientError>
  readonly stream: (
    read: Stream.Stream<Uint8Array, HttpClientError.HttpClientError>
  ) => Stream.Stream<Uint8Array, HttpClientError.HttpClientError>
}

/** @internal */
export class WrappedResponse implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId] = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId] = HttpIncomingMessage.TypeId

  constructor(
    readonly original: HttpClientResponse.HttpClientResponse,
    readonly hooks: BodyHooks
  ) {}

  get request(): HttpClientRequest.HttpClientRequest {
    return this.original.request
  }

  get url() {
    return this.original.url
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
    return this.hooks.effect(this.original.formData)
  }

  get text() {
    return this.hooks.effect(this.original.text)
  }

  get json() {
    return this.hooks.effect(this.original.json)
  }

  get urlParamsBody() {
    return this.hooks.effect(this.original.urlParamsBody)
  }

  get arrayBuffer() {
    return this.hooks.effect(this.original.arrayBuffer)
  }

  get stream() {
    return this.hooks.stream(this.original.stream)
  }

  /** A `101` hands the connection over: that is not a body read, so it is not hooked. */
  get upgrade() {
    return this.original.upgrade
  }

  /**
   * The wrapped response's JSON, with the request named only by its method and URL (as `HttpClientError`'s
   * JSON names it): the request's body may hold a secret, such as the login's.
   */
  toJSON() {
    return {
      ...(this.original.toJSON() as object),
      request: { _id: "HttpClientRequest", method: this.request.method, url: UrlParams.redactUrl(this.request.url) }
    }
  }

  toString() {
    return Formatter.format(this.toJSON())
  }

  [Inspectable.NodeInspectSymbol]() {
    return this.toJSON()
  }

  pipe() {
    // eslint-disable-next-line prefer-rest-params -- Effect's Pipeable idiom
    return pipeArguments(this, arguments)
  }
}

/**
 * The request target as the client sent it: its path and its query.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"

const rawUrl = (request: HttpServerRequest.HttpServerRequest): string =>
  NodeHttpServerRequest.toIncomingMessage(request).url ?? ""

/**
 * The path as the client sent it, without its query (`request.url` drops an absolute form's origin).
 *
 * @internal
 */
export const pathOf = (request: HttpServerRequest.HttpServerRequest): string => {
  const url = rawUrl(request)
  const q = url.indexOf("?")
  return q === -1 ? url : url.slice(0, q)
}

/**
 * The query parameters of the request.
 *
 * @internal
 */
export const queryOf = (request: HttpServerRequest.HttpServerRequest): URLSearchParams => {
  const url = rawUrl(request)
  const q = url.indexOf("?")
  return new URLSearchParams(q === -1 ? "" : url.slice(q + 1))
}

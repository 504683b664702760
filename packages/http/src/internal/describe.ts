/**
 * Turns the errors that undici, Node's TLS stack or fetch reject with into one readable sentence for the
 * `description` of a `TransportError` (or `DecodeError`), naming the `host:port` a connection failed with.
 * Only error codes, library messages and addresses are used, never request data, so no secret can end up
 * in a description.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Stream from "effect/Stream"
import { type BodyHooks, WrappedResponse } from "./response.js"

/**
 * What the client knows beyond the error itself.
 *
 * @internal
 */
export interface Context {
  readonly connectTimeout?: Duration.Duration | undefined
}

/** One error of a cause chain, as far as a description needs it. */
interface Link {
  readonly code: string | undefined
  readonly message: string
  /** the `host:port` of the socket's peer, when the error names it */
  readonly endpoint: string | undefined
  /** the host name that could not be looked up, when the error names it */
  readonly hostname: string | undefined
}

/** What a description says about one failure. */
interface Situation {
  readonly connectTimeout: Duration.Duration | undefined
  /** the `host:port` the connection was made, or attempted, with */
  readonly target: string
  /** the request went over TLS */
  readonly secure: boolean
}

/** Verification failures of the server's certificate chain (OpenSSL's X509_V_ERR_* as Node names them). */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED"
])

const field = (error: object, name: string): unknown =>
  name in error ? (error as Record<string, unknown>)[name] : undefined

const hostPort = (host: unknown, port: unknown): string | undefined =>
  typeof host === "string" && (typeof port === "number" || typeof port === "string") ? `${host}:${port}` : undefined

/** The peer that Node's net errors (`address`, `port`) or undici's socket errors (`socket`) name. */
const endpointOf = (error: object): string | undefined => {
  const socket = field(error, "socket")
  return hostPort(field(error, "address"), field(error, "port")) ??
    (typeof socket === "object" && socket !== null
      ? hostPort(field(socket, "remoteAddress"), field(socket, "remotePort"))
      : undefined)
}

const stringField = (error: object, name: string): string | undefined => {
  const value = field(error, name)
  return typeof value === "string" ? value : undefined
}

const chain = (cause: unknown): Array<Link> => {
  const links: Array<Link> = []
  let current: unknown = cause
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    links.push({
      code: stringField(current, "code"),
      message: stringField(current, "message") ?? "",
      endpoint: endpointOf(current),
      hostname: stringField(current, "hostname")
    })
    current = field(current, "cause")
  }
  return links
}

/** The `host:port` of a request's URL, the port made explicit. */
const targetOf = (request: HttpClientRequest.HttpClientRequest): string => {
  const url = URL.parse(request.url)
  if (url === null) return request.url
  return `${url.hostname}:${url.port === "" ? (url.protocol === "https:" ? 443 : 80) : url.port}`
}

/** The host that was not found: the request's `host:port`, or another host (a proxy's) the error names. */
const notFound = (link: Link, situation: Situation): string =>
  link.hostname === undefined || situation.target.startsWith(`${link.hostname}:`) ? situation.target : link.hostname

const proxyRefusal = (message: string): string | undefined => {
  const proxy = /^Proxy response \((\d+)\)/.exec(message)
  return proxy ? `the proxy refused to open a tunnel (HTTP ${proxy[1]})` : undefined
}

const describeLink = (link: Link, situation: Situation): string | undefined => {
  const { code, message } = link
  // the socket's own peer wins over the URL's: behind a proxy, that is the proxy
  const target = link.endpoint ?? situation.target
  if (code === undefined || code === "UND_ERR_ABORTED" || code === "ABORT_ERR") return proxyRefusal(message)
  if (UNTRUSTED.has(code)) {
    return `server certificate not trusted (${code}: ${message}) at ${target}; ` +
      "check that ca / IOCM_CA_FILE holds the CA that issued the platform's certificate"
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `server certificate name did not match the host (ERR_TLS_CERT_ALTNAME_INVALID: ${message}) at ${target}; ` +
      "set serverName / IOCM_SERVER_NAME to a name the certificate carries, or verifyHostname: false / " +
      "IOCM_VERIFY_HOSTNAME=false to skip only the name check"
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    const after = situation.connectTimeout === undefined ? "" : ` after ${Duration.format(situation.connectTimeout)}`
    return `connect timed out${after}: no connection to ${situation.target} (${code})`
  }
  // OpenSSL 3.5 (Node 24) names the alerts ERR_SSL_SSL/TLS_ALERT_*, older ones ERR_SSL_SSLV3_ALERT_* etc.
  if (/^ERR_SSL_(SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_/.test(code)) {
    return `the server refused the TLS handshake (${code}) at ${target}; check the client certificate (cert and ` +
      "key, or pfx) and that the platform trusts the CA that issued it"
  }
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET") {
    const closed = `the connection was closed by the server ${target} (${code}: ${message})`
    return situation.secure
      ? `${closed}; a server that requires a client certificate closes the connection like this when none, ` +
        "or an untrusted one, is presented"
      : closed
  }
  if (code === "ECONNREFUSED") return `connection refused by ${target} (${code})`
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `host not found: ${notFound(link, situation)} (${code})`
  if (code === "ETIMEDOUT") return `connect timed out: no connection to ${target} (${code})`
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `host unreachable: ${target} (${code})`
  return undefined
}

/**
 * A description for the failure of `request`, or `undefined` when nothing useful can be said.
 *
 * @internal
 */
export const describe = (
  cause: unknown,
  request: HttpClientRequest.HttpClientRequest,
  context: Context = {}
): string | undefined => {
  const situation: Situation = {
    connectTimeout: context.connectTimeout,
    target: targetOf(request),
    secure: request.url.startsWith("https:")
  }
  const links = chain(cause)
  for (const link of links) {
    const description = describeLink(link, situation)
    if (description !== undefined) return description
  }
  const last = links.filter((link) => link.code !== undefined).at(-1)
  return last === undefined ? undefined : `${last.code}: ${last.message} (${situation.target})`
}

/** The error with a description of its cause, when it has none and one can be given. */
const describeError = (error: HttpClientError.HttpClientError, context: Context): HttpClientError.HttpClientError => {
  const reason = error.reason
  if (reason.description !== undefined || reason.cause === undefined) return error
  if (reason._tag !== "TransportError" && reason._tag !== "DecodeError") return error
  const description = describe(reason.cause, reason.request, context)
  if (description === undefined) return error
  return new HttpClientError.HttpClientError({
    reason: reason._tag === "TransportError"
      ? new HttpClientError.TransportError({ request: reason.request, cause: reason.cause, description })
      : new HttpClientError.DecodeError({
        request: reason.request,
        response: reason.response,
        cause: reason.cause,
        description
      })
  })
}

/**
 * Describes the transport failures of a client (the request got no response) and of its body reads (e.g.
 * a connection reset while the body arrived).
 *
 * @internal
 */
export const describeErrors = (context: Context) => {
  const describeAny = <E>(error: E): E =>
    HttpClientError.isHttpClientError(error) ? describeError(error, context) as E : error
  const hooks: BodyHooks = { effect: Effect.mapError(describeAny), stream: Stream.mapError(describeAny) }
  return <E, R>(self: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
    HttpClient.transformResponse(self, (effect) =>
      effect.pipe(
        Effect.map((response) => new WrappedResponse(response, hooks)),
        Effect.mapError(describeAny)
      ))
}

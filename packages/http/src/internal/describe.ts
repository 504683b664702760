/**
 * Turns the errors that undici, Node's TLS stack or fetch reject with into one readable sentence for the
 * `description` of a `TransportError` (or `DecodeError`). Only error codes and library messages are used,
 * never request data, so no secret can end up in a description.
 *
 * @internal
 */
import * as Duration from "effect/Duration"

/** @internal */
export interface Context {
  readonly connectTimeout?: Duration.Duration | undefined
  readonly bodyTimeout?: Duration.Duration | undefined
  /** the request went over TLS */
  readonly secure?: boolean | undefined
}

interface Coded {
  readonly code: string | undefined
  readonly message: string
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

const chain = (cause: unknown): Array<Coded> => {
  const out: Array<Coded> = []
  let current: unknown = cause
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = "code" in current && typeof current.code === "string" ? current.code : undefined
    const message = "message" in current && typeof current.message === "string" ? current.message : ""
    out.push({ code, message })
    current = "cause" in current ? current.cause : undefined
  }
  return out
}

const describeOne = (error: Coded, context: Context): string | undefined => {
  const { code, message } = error
  if (code === undefined) {
    const proxy = /^Proxy response \((\d+)\)/.exec(message)
    return proxy ? `the proxy refused to open a tunnel (HTTP ${proxy[1]})` : undefined
  }
  if (UNTRUSTED.has(code)) {
    return `server certificate not trusted (${code}: ${message}); ` +
      "check that ca / IOCM_CA_FILE holds the CA that issued the platform's certificate"
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `server certificate name did not match the host (ERR_TLS_CERT_ALTNAME_INVALID: ${message}); ` +
      "set serverName / IOCM_SERVER_NAME to a name the certificate carries, or verifyHostname: false / " +
      "IOCM_VERIFY_HOSTNAME=false to skip only the name check"
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return context.connectTimeout
      ? `connect timed out after ${Duration.format(context.connectTimeout)} (${code})`
      : `connect timed out (${code})`
  }
  if (code === "UND_ERR_HEADERS_TIMEOUT") {
    return `request timed out waiting for the response headers (${code})`
  }
  if (code === "UND_ERR_BODY_TIMEOUT") {
    return context.bodyTimeout
      ? `response body timed out: no data for ${Duration.format(context.bodyTimeout)} (${code})`
      : `response body timed out (${code})`
  }
  // OpenSSL 3.5 (Node 24) names the alerts ERR_SSL_SSL/TLS_ALERT_*, older ones ERR_SSL_SSLV3_ALERT_* etc.
  if (/^ERR_SSL_(SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_/.test(code)) {
    return `the server refused the TLS handshake (${code}); check the client certificate (cert and key, or pfx) ` +
      "and that the platform trusts the CA that issued it"
  }
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET") {
    const closed = `the connection was closed by the server (${code}: ${message})`
    return context.secure
      ? `${closed}; a server that requires a client certificate closes the connection like this when none, ` +
        "or an untrusted one, is presented"
      : closed
  }
  if (code === "ECONNREFUSED") return `connection refused (${code})`
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `host not found (${code})`
  if (code === "ETIMEDOUT") return `connect timed out (${code})`
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `host unreachable (${code})`
  if (code === "UND_ERR_ABORTED" || code === "ABORT_ERR") {
    const proxy = /^Proxy response \((\d+)\)/.exec(message)
    return proxy ? `the proxy refused to open a tunnel (HTTP ${proxy[1]})` : undefined
  }
  return undefined
}

/**
 * A description for a transport failure, or `undefined` when nothing useful can be said.
 *
 * @internal
 */
export const describe = (cause: unknown, context: Context = {}): string | undefined => {
  const errors = chain(cause)
  for (const error of errors) {
    const description = describeOne(error, context)
    if (description !== undefined) return description
  }
  const last = errors.filter((e) => e.code !== undefined).at(-1)
  return last === undefined ? undefined : `${last.code}: ${last.message}`
}

/**
 * What `iocm doctor` does on the network, one small step each, with Node's own `dns`, `net` and
 * `tls`, so that each step sees its own failure: a name lookup, a TCP connection, a TLS handshake
 * that keeps the server's certificate and the verdict on its chain (without refusing it, to say
 * what is wrong), and one request on that connection to learn whether the server accepted the
 * client certificate. Every step is bounded and closes its socket; none sends a credential.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Dns from "node:dns"
import * as Net from "node:net"
import * as Tls from "node:tls"

/**
 * Why a probe failed: Node's error code (`ENOTFOUND`, `ECONNREFUSED`, `ERR_SSL_…`), `Timeout`, or
 * `Closed` for a connection the server closed without a word.
 *
 * @internal
 */
export interface ProbeError {
  readonly code: string
  readonly message: string
}

const probeError = (error: unknown): ProbeError => {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "Unknown"
  return { code, message: error instanceof Error ? error.message.split("\n")[0]!.trim() : String(error) }
}

const timedOut = (timeout: Duration.Duration): ProbeError => ({
  code: "Timeout",
  message: `no answer within ${Duration.format(timeout)}`
})

const bounded = (timeout: Duration.Duration) => <A>(self: Effect.Effect<A, ProbeError>) =>
  Effect.timeoutOrElse(self, { duration: timeout, orElse: () => Effect.fail(timedOut(timeout)) })

/**
 * The addresses `host` resolves to, as the system resolver (the one Node connects with) gives them.
 *
 * @internal
 */
export const lookup = (host: string, timeout: Duration.Duration): Effect.Effect<ReadonlyArray<string>, ProbeError> =>
  Effect.tryPromise({
    try: () => Dns.promises.lookup(host, { all: true }),
    catch: probeError
  }).pipe(Effect.map((addresses) => addresses.map((a) => a.address)), bounded(timeout))

/** Waits for `ready` on a socket, or its error or close; destroys it when interrupted. */
const opened = <S extends Net.Socket>(open: () => S, ready: string): Effect.Effect<S, ProbeError> =>
  Effect.callback<S, ProbeError>((resume) => {
    const socket = open()
    // The first error is the verdict; one after it (a reset once the answer is in) must not crash the process.
    socket.on("error", () => {})
    socket.once(ready, () => resume(Effect.succeed(socket)))
    socket.once("error", (error) => resume(Effect.fail(probeError(error))))
    socket.once("close", () => resume(Effect.fail({ code: "Closed", message: "the server closed the connection" })))
    return Effect.sync(() => socket.destroy())
  })

/**
 * Opens a TCP connection to `host:port` and closes it: the address it reached.
 *
 * @internal
 */
export const connect = (host: string, port: number, timeout: Duration.Duration): Effect.Effect<string, ProbeError> =>
  Effect.acquireUseRelease(
    opened(() => Net.connect({ host, port }), "connect").pipe(bounded(timeout)),
    (socket) => Effect.succeed(`${socket.remoteAddress}:${socket.remotePort}`),
    (socket) => Effect.sync(() => socket.destroy())
  )

/**
 * A TLS session the doctor looks at: the server's certificate and OpenSSL's verdict on its chain.
 *
 * @internal
 */
export interface Session {
  readonly socket: Tls.TLSSocket
  readonly protocol: string
  readonly certificate: Tls.PeerCertificate
  /** Why the chain does not verify against the CAs given (OpenSSL's code), or `undefined` when it does. */
  readonly chainError: string | undefined
}

/**
 * Does a TLS handshake with `host:port` on `options` (the CAs, the client identity, SNI),
 * accepting any certificate so as to report on it, for the life of the scope.
 *
 * @internal
 */
export const handshake = (
  host: string,
  port: number,
  options: Tls.ConnectionOptions,
  timeout: Duration.Duration
): Effect.Effect<Session, ProbeError, Scope.Scope> =>
  Effect.acquireRelease(
    opened(
      () =>
        Tls.connect({
          ...options,
          host,
          port,
          // Not trusted, only looked at: the verdict is `authorizationError`, and nothing secret is sent on it.
          rejectUnauthorized: false,
          checkServerIdentity: () => undefined
        }),
      "secureConnect"
    ).pipe(bounded(timeout)),
    (socket) => Effect.sync(() => socket.destroy())
  ).pipe(Effect.map((socket) => ({
    socket,
    protocol: socket.getProtocol() ?? "TLS",
    certificate: socket.getPeerCertificate(),
    chainError: socket.authorizationError === null ? undefined : String(socket.authorizationError)
  })))

/**
 * Sends `HEAD /` (no credentials) on the session and waits for the first bytes of an answer: a
 * server that refuses the client certificate says so now, with a TLS alert or by closing the
 * connection, since TLS 1.3 checks it after the handshake. The status line of the answer.
 *
 * @internal
 */
export const exchange = (
  session: Session,
  host: string,
  timeout: Duration.Duration
): Effect.Effect<string, ProbeError> =>
  Effect.callback<string, ProbeError>((resume) => {
    const { socket } = session
    socket.once("data", (chunk: Buffer) => resume(Effect.succeed(chunk.toString("latin1").split("\r\n")[0] ?? "")))
    socket.once("error", (error) => resume(Effect.fail(probeError(error))))
    socket.once("close", () => resume(Effect.fail({ code: "Closed", message: "the server closed the connection" })))
    socket.write(`HEAD / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
  }).pipe(bounded(timeout))

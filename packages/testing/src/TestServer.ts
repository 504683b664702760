/**
 * A scripted HTTPS server on loopback, with the TEST-ONLY certificates: it records every request
 * and answers the way the test says — JSON, raw bytes, resets, stalls, trickles, redirects, cut-off,
 * compressed or chunked bodies — and the script can change at any moment. Options give it another
 * certificate, require a client certificate, cap the TLS version, or make it plain HTTP;
 * `layerClient` is a fetch client that trusts the test CA, to talk to it.
 *
 * @since 0.0.0
 */
import * as Undici from "@effect/platform-node/Undici"
import type { Scope } from "effect"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import type { HttpClient } from "effect/http"
import * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import type * as Tls from "node:tls"
import * as Zlib from "node:zlib"
import { certs } from "./Certificates.js"
import * as Loopback from "./Loopback.js"

/**
 * A request as the server received it.
 *
 * @since 0.0.0
 * @category models
 */
export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  /** The bearer token sent, if any. */
  readonly token: string | undefined
  /** The common name of the client certificate presented, if any. */
  readonly client: string | undefined
}

/**
 * What the server does with a request.
 *
 * @since 0.0.0
 * @category models
 */
export type Reply =
  | { readonly _tag: "Json"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "Raw"; readonly status: number; readonly body: string; readonly contentType: string }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Stall" }
  | { readonly _tag: "Delayed"; readonly millis: number; readonly answer: Answer }
  | { readonly _tag: "Trickle"; readonly everyMillis: number }
  | { readonly _tag: "Redirect"; readonly status: number; readonly location: string }
  | { readonly _tag: "CutOff"; readonly status: number; readonly body: string; readonly contentLength: number }
  | { readonly _tag: "Gzip"; readonly status: number; readonly body: string }
  | {
    readonly _tag: "Chunked"
    readonly status: number
    readonly chunks: ReadonlyArray<string>
    readonly then: "end" | "close" | "stall"
  }

/**
 * The script: one reply for every request, or a function of the request.
 *
 * @since 0.0.0
 * @category models
 */
export type Answer = Reply | ((request: Recorded) => Reply)

/**
 * Answers `status` with `body` as JSON.
 *
 * @since 0.0.0
 * @category replies
 */
export const json = (status: number, body: unknown): Reply => ({ _tag: "Json", status, body })

/**
 * Answers `status` with `body` as it is, labelled `contentType`.
 *
 * @since 0.0.0
 * @category replies
 */
export const raw = (status: number, body: string, contentType = "text/html"): Reply => ({
  _tag: "Raw",
  status,
  body,
  contentType
})

/**
 * Destroys the connection instead of answering.
 *
 * @since 0.0.0
 * @category replies
 */
export const reset: Reply = { _tag: "Reset" }

/**
 * Never answers.
 *
 * @since 0.0.0
 * @category replies
 */
export const stall: Reply = { _tag: "Stall" }

/**
 * Gives `answer` after `millis`.
 *
 * @since 0.0.0
 * @category replies
 */
export const delayed = (millis: number, answer: Answer): Reply => ({ _tag: "Delayed", millis, answer })

/**
 * Answers 200 with headers, then a space every `everyMillis`, forever.
 *
 * @since 0.0.0
 * @category replies
 */
export const trickle = (everyMillis: number): Reply => ({ _tag: "Trickle", everyMillis })

/**
 * Answers `status` with a `location` and no body.
 *
 * @since 0.0.0
 * @category replies
 */
export const redirect = (status: number, location: string): Reply => ({ _tag: "Redirect", status, location })

/**
 * Announces `contentLength` bytes, sends `body`, then closes the connection.
 *
 * @since 0.0.0
 * @category replies
 */
export const cutOff = (status: number, body: string, contentLength: number): Reply => ({
  _tag: "CutOff",
  status,
  body,
  contentLength
})

/**
 * Sends `body` gzip-compressed, with `content-encoding: gzip` and the compressed length.
 *
 * @since 0.0.0
 * @category replies
 */
export const gzip = (status: number, body: string): Reply => ({ _tag: "Gzip", status, body })

/**
 * Sends `chunks` with chunked transfer encoding (no declared length), then ends the body, or
 * closes the connection instead when `end` is false.
 *
 * @since 0.0.0
 * @category replies
 */
export const chunked = (status: number, chunks: ReadonlyArray<string>, end = true): Reply => ({
  _tag: "Chunked",
  status,
  chunks,
  then: end ? "end" : "close"
})

/**
 * Answers 200 with headers and the start of a JSON body, then nothing more, keeping the connection.
 *
 * @since 0.0.0
 * @category replies
 */
export const stallBody: Reply = { _tag: "Chunked", status: 200, chunks: ["{\"ok\":"], then: "stall" }

/**
 * The default script: 200 with `{ ok: true, path, client }`, `client` being the common name of the
 * client certificate presented (or null).
 *
 * @since 0.0.0
 * @category replies
 */
export const echo = (request: Recorded): Reply =>
  json(200, { ok: true, path: request.url, client: request.client ?? null })

/**
 * How the server listens.
 *
 * @since 0.0.0
 * @category models
 */
export interface Options {
  /** `"http"` for a plain HTTP server; HTTPS by default. */
  readonly protocol?: "https" | "http"
  /** The server identity; by default the test server certificate for 127.0.0.1. */
  readonly cert?: Buffer
  readonly key?: Buffer
  /** Require a client certificate issued by the test CA. */
  readonly mutual?: boolean
  readonly maxVersion?: Tls.SecureVersion
}

/**
 * A running scripted server.
 *
 * @since 0.0.0
 * @category models
 */
export interface TestServer {
  /** `https://127.0.0.1:<port>` (or `http://`) */
  readonly url: string
  readonly port: number
  /** Requests received so far, in order. */
  readonly requests: ReadonlyArray<Recorded>
  /** TCP connections accepted so far. */
  readonly connections: number
  /** Requests whose connection closed before the server answered (the client abandoned them). */
  readonly abandoned: number
  /** How the server answers; change it at any moment. */
  answer: Answer
}

interface State {
  answer: Answer
  readonly requests: Array<Recorded>
  connections: number
  abandoned: number
}

const bearer = (authorization: string | undefined): string | undefined =>
  authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined

const clientName = (socket: Net.Socket): string | undefined => {
  const tls = socket as Partial<Tls.TLSSocket>
  const name = typeof tls.getPeerCertificate === "function" ? tls.getPeerCertificate().subject?.CN : undefined
  return Array.isArray(name) ? name.join(", ") : name
}

const record = (req: Http.IncomingMessage, body: Buffer): Recorded => ({
  method: req.method ?? "",
  url: req.url ?? "",
  headers: req.headers,
  body: body.toString("utf8"),
  token: bearer(req.headers.authorization),
  client: clientName(req.socket)
})

const countAbandoned = (res: Http.ServerResponse, state: State): void => {
  let answered = false
  res.on("finish", () => {
    answered = true
  })
  res.on("close", () => {
    if (!answered) state.abandoned++
  })
}

const replyTo = (request: Recorded, answer: Answer): Reply => typeof answer === "function" ? answer(request) : answer

const send = (reply: Reply, request: Recorded, req: Http.IncomingMessage, res: Http.ServerResponse): void => {
  switch (reply._tag) {
    case "Json":
      res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.body))
      return
    case "Raw":
      res.writeHead(reply.status, { "content-type": reply.contentType }).end(reply.body)
      return
    case "Reset":
      req.socket.destroy()
      return
    case "Stall":
      return
    case "Delayed": {
      const timer = setTimeout(() => send(replyTo(request, reply.answer), request, req, res), reply.millis)
      res.on("close", () => clearTimeout(timer))
      return
    }
    case "Trickle": {
      res.writeHead(200, { "content-type": "application/json" })
      const timer = setInterval(() => res.write(" "), reply.everyMillis)
      res.on("close", () => clearInterval(timer))
      return
    }
    case "Redirect":
      res.writeHead(reply.status, { location: reply.location }).end()
      return
    case "CutOff":
      res.writeHead(reply.status, {
        "content-type": "application/json",
        "content-length": String(reply.contentLength)
      })
      res.write(reply.body, () => req.socket.destroy())
      return
    case "Gzip": {
      const compressed = Zlib.gzipSync(reply.body)
      res.writeHead(reply.status, {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "content-length": String(compressed.length)
      }).end(compressed)
      return
    }
    case "Chunked":
      res.writeHead(reply.status, { "content-type": "application/json" })
      for (const chunk of reply.chunks) res.write(chunk)
      if (reply.then === "end") res.end()
      else if (reply.then === "close") res.write("", () => req.socket.destroy())
      return
  }
}

const handle = (state: State) => (req: Http.IncomingMessage, res: Http.ServerResponse): void => {
  countAbandoned(res, state)
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => {
    const request = record(req, Buffer.concat(chunks))
    state.requests.push(request)
    send(replyTo(request, state.answer), request, req, res)
  })
}

const createServer = (options: Options, state: State): Http.Server => {
  if (options.protocol === "http") return Http.createServer(handle(state))
  const server = Https.createServer({
    cert: options.cert ?? certs.serverCert,
    key: options.key ?? certs.serverKey,
    ...(options.mutual ? { ca: certs.ca, requestCert: true, rejectUnauthorized: true } : {}),
    ...(options.maxVersion ? { maxVersion: options.maxVersion } : {})
  }, handle(state))
  // A refused handshake is what the mutual-TLS tests are about: nothing to report.
  server.on("tlsClientError", () => {})
  return server
}

const view = (listening: Loopback.Listening, state: State): TestServer => ({
  url: listening.url,
  port: listening.port,
  get requests() {
    return state.requests
  },
  get connections() {
    return state.connections
  },
  get abandoned() {
    return state.abandoned
  },
  get answer() {
    return state.answer
  },
  set answer(next: Answer) {
    state.answer = next
  }
})

/**
 * Starts a server answering with `answer` (by default {@link echo}) for the current scope.
 *
 * @since 0.0.0
 * @category constructors
 */
export const make = (answer: Answer = echo, options: Options = {}): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.suspend(() => {
    const state: State = { answer, requests: [], connections: 0, abandoned: 0 }
    const server = createServer(options, state)
    server.on("connection", () => {
      state.connections++
    })
    return Effect.map(Loopback.serve(server, options.protocol ?? "https"), (listening) => view(listening, state))
  })

const trustingTestCa = Effect.acquireRelease(
  Effect.sync(() => new Undici.Agent({ connect: { ca: certs.ca } })),
  (agent) => Effect.promise(() => agent.destroy())
)

/** Undici's `fetch` (the one `globalThis.fetch` is a build of) on `dispatcher`. */
const fetchWith = (dispatcher: Undici.Dispatcher): typeof globalThis.fetch =>
  ((input: string | URL, init?: RequestInit) =>
    Undici.fetch(input, { ...init, dispatcher } as Undici.RequestInit)) as unknown as typeof globalThis.fetch

/**
 * An `HttpClient` on `fetch` that trusts the test CA (and only it), to talk to an HTTPS
 * {@link TestServer} the way `FetchHttpClient.layer` talks to any server: a connection pool of its
 * own, closed with the layer.
 *
 * @since 0.0.0
 * @category layers
 */
export const layerClient: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.effect(FetchHttpClient.Fetch, Effect.map(trustingTestCa, fetchWith)))
)

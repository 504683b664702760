/**
 * Small loopback servers for the transport tests: HTTPS (optionally requiring a client certificate),
 * plain HTTP, a TCP server that never completes a handshake, and an HTTP CONNECT proxy. Each is a scoped
 * resource that records what it saw.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import type * as Tls from "node:tls"

const fixture = (name: string): Buffer => Fs.readFileSync(new URL(`../../simulator/fixtures/${name}`, import.meta.url))

export const fixturePath = (name: string): string =>
  new URL(`../../simulator/fixtures/${name}`, import.meta.url).pathname

export const certs = {
  ca: fixture("ca.pem"),
  serverCert: fixture("server.pem"),
  serverKey: fixture("server-key.pem"),
  clientCert: fixture("client.pem"),
  clientKey: fixture("client-key.pem"),
  clientP12: fixture("client.p12"),
  p12Passphrase: "iocm-test-passphrase",
  otherCa: fixture("other-ca.pem"),
  otherClientCert: fixture("other-client.pem"),
  otherClientKey: fixture("other-client-key.pem"),
  mismatchCert: fixture("mismatch.pem"),
  mismatchKey: fixture("mismatch-key.pem")
}

/** What a test server does with a request. */
export type Behaviour =
  | { readonly _tag: "Json" }
  | { readonly _tag: "Slow"; readonly millis: number }
  | { readonly _tag: "Stall" }
  | { readonly _tag: "StallBody" }
  | { readonly _tag: "TrickleBody"; readonly everyMillis: number }
  | { readonly _tag: "Redirect"; readonly location: string }

export interface TestServer {
  readonly url: string
  readonly port: number
  /** TCP connections accepted so far */
  readonly connections: () => number
  /** requests received so far */
  readonly requests: () => number
  /** requests whose connection closed before the server answered (the client abandoned them) */
  readonly abandoned: () => number
}

const handler =
  (behaviour: Behaviour, state: { requests: number; abandoned: number }) =>
  (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    state.requests++
    let answered = false
    res.on("finish", () => {
      answered = true
    })
    res.on("close", () => {
      if (!answered) state.abandoned++
    })
    const socket = req.socket as Partial<Tls.TLSSocket>
    const peer = typeof socket.getPeerCertificate === "function" ? socket.getPeerCertificate() : undefined
    const body = JSON.stringify({ ok: true, path: req.url, client: peer?.subject?.CN ?? null })
    switch (behaviour._tag) {
      case "Json": {
        res.writeHead(200, { "content-type": "application/json" }).end(body)
        return
      }
      case "Slow": {
        setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(body), behaviour.millis)
        return
      }
      case "Stall": {
        return
      }
      case "StallBody": {
        res.writeHead(200, { "content-type": "application/json" })
        res.write("{\"ok\":")
        return
      }
      case "TrickleBody": {
        res.writeHead(200, { "content-type": "application/json" })
        const timer = setInterval(() => res.write(" "), behaviour.everyMillis)
        res.on("close", () => clearInterval(timer))
        return
      }
      case "Redirect": {
        res.writeHead(307, { location: behaviour.location }).end()
        return
      }
    }
  }

const listen = <S extends Net.Server>(
  server: S,
  scheme: "http" | "https",
  state: { connections: number; requests: number; abandoned: number }
): Effect.Effect<TestServer, never, Scope.Scope> => {
  const sockets = new Set<Net.Socket>()
  server.on("connection", (socket: Net.Socket) => {
    state.connections++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  return Effect.acquireRelease(
    Effect.callback<TestServer>((resume) => {
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        resume(Effect.succeed({
          url: `${scheme}://127.0.0.1:${port}`,
          port,
          connections: () => state.connections,
          requests: () => state.requests,
          abandoned: () => state.abandoned
        }))
      })
    }),
    () =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )
}

/** An HTTPS server with the given certificate (default: the test server certificate for 127.0.0.1). */
export const httpsServer = (
  options: {
    readonly behaviour?: Behaviour
    readonly cert?: Buffer
    readonly key?: Buffer
    /** require a client certificate issued by the test CA */
    readonly mutual?: boolean
    readonly maxVersion?: Tls.SecureVersion
  } = {}
): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.suspend(() => {
    const state = { connections: 0, requests: 0, abandoned: 0 }
    const server = Https.createServer(
      {
        cert: options.cert ?? certs.serverCert,
        key: options.key ?? certs.serverKey,
        ...(options.mutual ? { ca: certs.ca, requestCert: true, rejectUnauthorized: true } : {}),
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {})
      },
      handler(options.behaviour ?? { _tag: "Json" }, state)
    )
    server.on("tlsClientError", () => {})
    return listen(server, "https", state)
  })

/** A plain HTTP server. */
export const httpServer = (behaviour: Behaviour = { _tag: "Json" }): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.suspend(() => {
    const state = { connections: 0, requests: 0, abandoned: 0 }
    return listen(Http.createServer(handler(behaviour, state)), "http", state)
  })

/** A TCP server that accepts connections and never says a word: a TLS handshake with it never completes. */
export const silentServer: Effect.Effect<TestServer, never, Scope.Scope> = Effect.suspend(() => {
  const state = { connections: 0, requests: 0, abandoned: 0 }
  return listen(Net.createServer(() => {}), "https", state)
})

export interface TestProxy {
  readonly url: string
  /** CONNECT tunnels opened so far */
  readonly tunnels: () => number
  /** the `host:port` targets asked for */
  readonly targets: ReadonlyArray<string>
}

/** An HTTP proxy that only tunnels (CONNECT); with `auth`, it wants that `Proxy-Authorization` header. */
export const connectProxy = (
  options: { readonly auth?: string } = {}
): Effect.Effect<TestProxy, never, Scope.Scope> =>
  Effect.suspend(() => {
    let tunnels = 0
    const targets: Array<string> = []
    const sockets = new Set<Net.Socket>()
    const server = Http.createServer((_req, res) => {
      res.writeHead(405).end()
    })
    server.on("connection", (socket: Net.Socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.on("connect", (req: Http.IncomingMessage, client: Net.Socket, head: Buffer) => {
      targets.push(req.url ?? "")
      if (options.auth !== undefined && req.headers["proxy-authorization"] !== options.auth) {
        client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n")
        return
      }
      tunnels++
      const [host, port] = (req.url ?? "").split(":")
      const upstream = Net.connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      sockets.add(upstream)
      upstream.on("close", () => sockets.delete(upstream))
      upstream.on("error", () => client.destroy())
      client.on("error", () => upstream.destroy())
    })
    return Effect.acquireRelease(
      Effect.callback<TestProxy>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as Net.AddressInfo).port
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, tunnels: () => tunnels, targets }))
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
  })

/** A loopback port that nothing listens on: one a server was just given, and gave back. */
export const closedPort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

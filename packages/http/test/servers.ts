/**
 * The transport tests' own loopback servers, beside `@iocm/testing`'s scripted `TestServer`: a TCP
 * server that never completes a handshake, and an HTTP CONNECT proxy. Each is a scoped resource.
 */
import * as Loopback from "@iocm/testing/Loopback"
import type { Scope } from "effect"
import { Effect } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"

/** A TCP server that accepts connections and never says a word: a TLS handshake with it never completes. */
export const silentServer: Effect.Effect<Loopback.Listening, never, Scope.Scope> = Effect.suspend(() =>
  Loopback.serve(Net.createServer(() => {}), "https")
)

export interface TestProxy {
  readonly url: string
  /** CONNECT tunnels opened so far */
  readonly tunnels: () => number
  /** the `host:port` targets asked for */
  readonly targets: ReadonlyArray<string>
}

const tunnel = (client: Net.Socket, target: string, head: Buffer): void => {
  const [host, port] = target.split(":")
  const upstream = Net.connect(Number(port), host, () => {
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
    upstream.write(head)
    upstream.pipe(client)
    client.pipe(upstream)
  })
  upstream.on("error", () => client.destroy())
  client.on("error", () => upstream.destroy())
  client.on("close", () => upstream.destroy())
}

/** An HTTP proxy that only tunnels (CONNECT); with `auth`, it wants that `Proxy-Authorization` header. */
export const connectProxy = (
  options: { readonly auth?: string } = {}
): Effect.Effect<TestProxy, never, Scope.Scope> =>
  Effect.suspend(() => {
    let tunnels = 0
    const targets: Array<string> = []
    const server = Http.createServer((_req, res) => {
      res.writeHead(405).end()
    })
    server.on("connect", (req: Http.IncomingMessage, client: Net.Socket, head: Buffer) => {
      targets.push(req.url ?? "")
      if (options.auth !== undefined && req.headers["proxy-authorization"] !== options.auth) {
        client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n")
        return
      }
      tunnels++
      tunnel(client, req.url ?? "", head)
    })
    return Effect.map(Loopback.serve(server, "http"), ({ url }) => ({ url, tunnels: () => tunnels, targets }))
  })

/**
 * Listening on loopback for the life of a scope: a port of its own, every socket tracked so that
 * closing the scope closes the server at once, even with connections still open.
 *
 * @since 0.0.0
 */
import type { Scope } from "effect"
import { Effect } from "effect"
import * as Net from "node:net"

/**
 * A server listening on `127.0.0.1`.
 *
 * @since 0.0.0
 * @category models
 */
export interface Listening {
  readonly port: number
  /** `<scheme>://127.0.0.1:<port>` */
  readonly url: string
}

const trackSockets = (server: Net.Server): Set<Net.Socket> => {
  const sockets = new Set<Net.Socket>()
  server.on("connection", (socket: Net.Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  return sockets
}

const listen = (server: Net.Server, scheme: string): Effect.Effect<Listening> =>
  Effect.callback<Listening>((resume) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      resume(Effect.succeed({ port, url: `${scheme}://127.0.0.1:${port}` }))
    })
  })

const close = (server: Net.Server, sockets: Set<Net.Socket>): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resume(Effect.void))
  })

/**
 * Listens with `server` on a free loopback port until the scope closes; `scheme` only names the URL.
 *
 * @since 0.0.0
 * @category constructors
 */
export const serve = (server: Net.Server, scheme: string): Effect.Effect<Listening, never, Scope.Scope> =>
  Effect.suspend(() => {
    const sockets = trackSockets(server)
    return Effect.acquireRelease(listen(server, scheme), () => close(server, sockets))
  })

/**
 * A loopback port that nothing listens on: one a server was just given, and gave back.
 *
 * @since 0.0.0
 * @category constructors
 */
export const closedPort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * A business API on loopback that answers the way the test says — including 403/1010005 at
 * chosen moments — and records every request it receives.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  /** The bearer token sent, if any. */
  readonly token: string | undefined
}

export interface Reply {
  readonly status: number
  readonly body: string
  readonly contentType?: string
}

export const json = (status: number, body: unknown): Reply => ({
  status,
  body: JSON.stringify(body),
  contentType: "application/json"
})

export const invalidToken = json(403, { resultcode: "1010005", resultmsg: "Invalid access token or appId." })
export const ok = json(200, { totalCount: 0, pageNo: 0, pageSize: 10, devices: [] })

export interface HostileServer {
  readonly baseUrl: string
  readonly requests: Array<Recorded>
  /** How the server answers; change it at any moment. */
  handler: (request: Recorded) => Reply
}

export const make = (handler: (request: Recorded) => Reply): Effect.Effect<HostileServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly state: HostileServer; readonly server: Http.Server }>((resume) => {
      const state: { requests: Array<Recorded>; handler: (request: Recorded) => Reply; baseUrl: string } = {
        requests: [],
        handler,
        baseUrl: ""
      }
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const authorization = req.headers.authorization
          const recorded: Recorded = {
            method: req.method ?? "",
            url: req.url ?? "",
            headers: req.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            token: authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined
          }
          state.requests.push(recorded)
          const reply = state.handler(recorded)
          res.writeHead(reply.status, { "content-type": reply.contentType ?? "text/plain" }).end(reply.body)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        state.baseUrl = `http://127.0.0.1:${port}`
        resume(Effect.succeed({ state, server }))
      })
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ state }) => state))

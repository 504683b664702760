/**
 * A scripted HTTP server on loopback for the protocol tests: records every request and answers
 * with whatever the test sets, including resets and malformed bodies.
 */
import type { Scope } from "effect"
import { Effect } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Zlib from "node:zlib"

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export type Reply =
  | { readonly _tag: "Json"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "Raw"; readonly status: number; readonly body: string; readonly contentType?: string }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Stall" }
  | { readonly _tag: "Trickle"; readonly everyMillis: number }
  | { readonly _tag: "Redirect"; readonly status: number; readonly location: string }
  | { readonly _tag: "CutOff"; readonly status: number; readonly body: string; readonly contentLength: number }
  | { readonly _tag: "Gzip"; readonly status: number; readonly body: string }
  | { readonly _tag: "Chunked"; readonly status: number; readonly chunks: ReadonlyArray<string>; readonly end: boolean }

export const json = (status: number, body: unknown): Reply => ({ _tag: "Json", status, body })
export const raw = (status: number, body: string, contentType = "text/html"): Reply => ({
  _tag: "Raw",
  status,
  body,
  contentType
})
export const reset: Reply = { _tag: "Reset" }
/** Never answers. */
export const stall: Reply = { _tag: "Stall" }
/** Answers 200 with headers, then a space every `everyMillis`, forever. */
export const trickle = (everyMillis: number): Reply => ({ _tag: "Trickle", everyMillis })
export const redirect = (status: number, location: string): Reply => ({ _tag: "Redirect", status, location })
/** Announces `contentLength` bytes, sends `body`, then closes the connection. */
export const cutOff = (status: number, body: string, contentLength: number): Reply => ({
  _tag: "CutOff",
  status,
  body,
  contentLength
})

/** Sends `body` gzip-compressed, with `content-encoding: gzip` and the compressed length. */
export const gzip = (status: number, body: string): Reply => ({ _tag: "Gzip", status, body })

/**
 * Sends `chunks` with chunked transfer encoding (no declared length), then ends the body, or
 * closes the connection instead when `end` is false.
 */
export const chunked = (status: number, chunks: ReadonlyArray<string>, end = true): Reply => ({
  _tag: "Chunked",
  status,
  chunks,
  end
})

export interface TestServer {
  readonly baseUrl: string
  readonly requests: Array<RecordedRequest>
  reply: Reply
}

/** Starts the server for the current scope. */
export const make = (reply: Reply): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<TestServer>((resume) => {
      const state: { requests: Array<RecordedRequest>; reply: Reply } = { requests: [], reply }
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          state.requests.push({
            method: req.method ?? "",
            url: req.url ?? "",
            headers: req.headers,
            body: Buffer.concat(chunks).toString("utf8")
          })
          const current = state.reply
          switch (current._tag) {
            case "Reset":
              req.socket.destroy()
              return
            case "Stall":
              return
            case "Trickle": {
              res.writeHead(200, { "content-type": "application/json" })
              const timer = setInterval(() => res.write(" "), current.everyMillis)
              res.on("close", () => clearInterval(timer))
              return
            }
            case "Redirect":
              res.writeHead(current.status, { location: current.location }).end()
              return
            case "CutOff":
              res.writeHead(current.status, {
                "content-type": "application/json",
                "content-length": String(current.contentLength)
              })
              res.write(current.body, () => req.socket.destroy())
              return
            case "Gzip": {
              const compressed = Zlib.gzipSync(current.body)
              res.writeHead(current.status, {
                "content-type": "application/json",
                "content-encoding": "gzip",
                "content-length": String(compressed.length)
              }).end(compressed)
              return
            }
            case "Chunked":
              res.writeHead(current.status, { "content-type": "application/json" })
              for (const chunk of current.chunks) res.write(chunk)
              if (current.end) res.end()
              else res.write("", () => req.socket.destroy())
              return
            case "Json":
              res.writeHead(current.status, { "content-type": "application/json" }).end(JSON.stringify(current.body))
              return
            case "Raw":
              res.writeHead(current.status, { "content-type": current.contentType ?? "text/plain" }).end(current.body)
              return
          }
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        const testServer: TestServer & { server: Http.Server } = {
          baseUrl: `http://127.0.0.1:${port}`,
          get requests() {
            return state.requests
          },
          get reply() {
            return state.reply
          },
          set reply(next: Reply) {
            state.reply = next
          },
          server
        }
        resume(Effect.succeed(testServer))
      })
    }),
    (testServer) =>
      Effect.callback<void>((resume) => {
        const server = (testServer as TestServer & { server: Http.Server }).server
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/** A port on loopback where nothing listens. */
export const closedPort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = Http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

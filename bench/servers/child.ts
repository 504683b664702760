/**
 * The server process: the simulator and a minimal `node:https` server answering the same JSON,
 * both with the TEST-ONLY certificates and mutual TLS, in a process of their own so that the
 * client side of every network figure is measured on its own core (the machine has two).
 * Driven over IPC by `remote.ts`.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Wire from "@iocm/core/Wire"
import * as Simulator from "@iocm/simulator/Simulator"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpMiddleware from "effect/http/HttpMiddleware"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as Crypto from "node:crypto"
import * as Https from "node:https"
import type * as Net from "node:net"
import { readPems } from "../support.js"
import type { ChildMessage, ParentMessage, ServerInfo } from "./protocol.js"
import { appsOf } from "./protocol.js"

const send = (message: ChildMessage) => process.send?.(message)

const randomToken = (): string => Crypto.randomBytes(16).toString("hex")

/** The platform's token JSON, as the simulator writes it. */
const tokenBody = (): string =>
  JSON.stringify({
    accessToken: randomToken(),
    tokenType: "bearer",
    expiresIn: 3600,
    refreshToken: randomToken(),
    scope: "default"
  })

/**
 * The minimal server: reads the body, parses it (form for login, JSON for refresh), answers the
 * token JSON. No validation, no state: the floor a token endpoint cannot go below.
 */
const startMinimal = (pems: ReturnType<typeof readPems>): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Https.createServer({
      ca: pems.ca,
      cert: pems.serverCert,
      key: pems.serverKey,
      requestCert: true,
      rejectUnauthorized: true
    }, (request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let ok = false
        if (request.method === "POST" && request.url === Wire.loginPath) {
          const form = new URLSearchParams(text)
          ok = form.get("appId") !== null && form.get("secret") !== null
        } else if (request.method === "POST" && request.url === Wire.refreshPath) {
          try {
            const json = JSON.parse(text) as { refreshToken?: unknown }
            ok = typeof json.refreshToken === "string"
          } catch {
            ok = false
          }
        }
        const body = ok ? tokenBody() : JSON.stringify({ error_code: "50400", error_desc: "Invalid input." })
        response.writeHead(ok ? 200 : 400, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body)
        })
        response.end(body)
      })
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port))
  })

/**
 * The floor of the simulator's stack: effect's `HttpRouter` on `NodeHttpServer`, same TLS, the same
 * two routes reading the body and answering the token JSON, no server spans (like the simulator),
 * and nothing else (no state, no validation, no counters, no faults). It tells the cost of the HTTP
 * stack from the cost of the simulator's own rules.
 */
const startEffectFloor = (pems: ReturnType<typeof readPems>) =>
  Effect.gen(function*() {
    const answer = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      yield* request.text
      return HttpServerResponse.text(tokenBody(), { contentType: "application/json" })
    })
    const login = HttpRouter.route("POST", Wire.loginPath, answer)
    const refresh = HttpRouter.route("POST", Wire.refreshPath, answer)
    const server = NodeHttpServer.layer(() =>
      Https.createServer({
        ca: pems.ca,
        cert: pems.serverCert,
        key: pems.serverKey,
        requestCert: true,
        rejectUnauthorized: true
      }), { port: 0, host: "127.0.0.1" })
    const context = yield* Layer.build(
      HttpRouter.serve(HttpRouter.addAll([login, refresh]), { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provide(Layer.succeed(HttpMiddleware.TracerDisabledWhen, () => true)),
        Layer.provideMerge(server)
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    return address._tag === "UnixPathAddress" ? 0 : address.port
  })

const program = Effect.scoped(
  Effect.gen(function*() {
    const pems = readPems()
    const sim = yield* Simulator.make({
      tls: { mutual: true },
      apps: appsOf(),
      rateLimit: { limit: Number.MAX_SAFE_INTEGER }
    })
    const minimalPort = yield* Effect.promise(() => startMinimal(pems))
    const floorPort = yield* startEffectFloor(pems)
    const info: ServerInfo = {
      simulator: sim.baseUrl,
      minimal: `https://127.0.0.1:${minimalPort}`,
      effectFloor: `https://127.0.0.1:${floorPort}`,
      pid: process.pid
    }
    process.on("message", (message: ParentMessage) => {
      if (message.type === "cpu") {
        const usage = process.cpuUsage()
        send({ type: "cpu", id: message.id, micros: usage.user + usage.system })
      } else if (message.type === "counters") {
        Effect.runPromise(sim.counters).then((counters) =>
          send({
            type: "counters",
            id: message.id,
            counters: { requests: counters.requests, logins: counters.logins, refreshes: counters.refreshes }
          })
        )
      }
    })
    send({ type: "ready", info })
    yield* Effect.never
  })
)

process.on("disconnect", () => process.exit(0))
Effect.runFork(program)

/**
 * Mutual TLS over the wire with Node's `https`: no client certificate or one from another CA is
 * refused during the handshake; the test client certificate (PEM or PKCS#12) is accepted.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Path from "node:path"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }

const loginWithPfx = (s: Simulator.Simulator.Service) =>
  Effect.callback<number, Error>((resume) => {
    const body = new URLSearchParams(demo).toString()
    const req = Https.request(`${s.baseUrl}${W.loginPath}`, {
      method: "POST",
      agent: false,
      ca: s.ca,
      pfx: Fs.readFileSync(Path.join(Simulator.fixturesDirectory, "client.p12")),
      passphrase: Simulator.clientP12Passphrase,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) }
    }, (res) => {
      res.resume()
      res.on("end", () => resume(Effect.succeed(res.statusCode ?? 0)))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end(body)
  })

layer(Simulator.layer({ tls: { mutual: true } }), { excludeTestServices: true })("mutual TLS", (it) => {
  it.effect("the client certificate signed by the test CA is accepted", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.Simulator
      assert.isTrue(s.mutualTls)
      const res = yield* W.login(s, demo, { cert: s.clientCert, key: s.clientKey })
      assert.strictEqual(res.status, 200)
    }))

  it.effect("the PKCS#12 bundle with the test passphrase is accepted", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* loginWithPfx(yield* Simulator.Simulator), 200)
    }))

  it.effect("no client certificate: refused in the handshake, no HTTP answer", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.Simulator
      const error = yield* Effect.flip(W.login(s, demo))
      assert.match(String(error.code), /CERTIFICATE_REQUIRED|ECONNRESET|EPIPE|HANDSHAKE/)
    }))

  it.effect("a client certificate from another CA: refused", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.Simulator
      const error = yield* Effect.flip(
        W.login(s, demo, { cert: W.fixture("other-client.pem"), key: W.fixture("other-client-key.pem") })
      )
      assert.match(String(error.code), /UNKNOWN_CA|ECONNRESET|EPIPE|BAD_CERTIFICATE|HANDSHAKE/)
    }))
})

describe("server-only TLS", () => {
  it.live("without mTLS a client certificate is optional", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      assert.strictEqual((yield* W.login(s, demo)).status, 200)
      assert.strictEqual((yield* W.login(s, demo, { cert: s.clientCert, key: s.clientKey })).status, 200)
    }))

  it.live("a server certificate can be given; then it is the one served", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ tls: { cert: W.fixture("mismatch.pem"), key: W.fixture("mismatch-key.pem") } })
      // Valid chain, but issued for platform.example.test only: Node refuses it for 127.0.0.1.
      const error = yield* Effect.flip(W.login(s, demo))
      assert.strictEqual(error.code, "ERR_TLS_CERT_ALTNAME_INVALID")
    }))
})

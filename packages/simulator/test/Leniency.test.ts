/**
 * The platform's leniency, over the wire: login form field names without regard to case, the
 * `Authorization` scheme in any case; both accepted and counted, so that a test sees a client
 * relying on them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }

const formLogin = (target: W.Target, body: string) =>
  W.send(target, {
    path: W.loginPath,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body
  })

describe("leniency", () => {
  it.live("login reads form field names without regard to case, and counts each login that relied on it", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const lenient = [
        `appId=${demo.appId}&Secret=${demo.secret}`,
        `APPID=${demo.appId}&SECRET=${demo.secret}`,
        `appid=${demo.appId}&secret=${demo.secret}`
      ]
      for (const body of lenient) {
        const res = yield* formLogin(s, body)
        assert.strictEqual(res.status, 200, body)
        assert.match(W.tokens(res).accessToken, /^[0-9a-f]{32}$/)
      }
      assert.deepStrictEqual((yield* s.counters).leniency, { loginFieldCase: 3, bearerCase: 0 })
      // The exact names need no leniency, and win over another spelling.
      assert.strictEqual((yield* formLogin(s, `appId=${demo.appId}&secret=${demo.secret}`)).status, 200)
      assert.strictEqual((yield* formLogin(s, `appId=${demo.appId}&secret=${demo.secret}&Secret=wrong`)).status, 200)
      assert.strictEqual((yield* formLogin(s, `appId=${demo.appId}&Secret=wrong&secret=${demo.secret}`)).status, 200)
      // Counted whatever the answer: a wrong secret under another spelling is still 100208.
      assert.deepStrictEqual(W.errorOf(yield* formLogin(s, `appId=${demo.appId}&Secret=wrong`)), {
        status: 401,
        body: { error_code: "100208", error_desc: "AppId or secret is not right." }
      })
      assert.deepStrictEqual(W.errorOf(yield* formLogin(s, `appId=${demo.appId}&secrets=${demo.secret}`)), {
        status: 400,
        body: { error_code: "102202", error_desc: "Required Parameter is null or empty." }
      })
      const counters = yield* s.counters
      assert.deepStrictEqual(counters.leniency, { loginFieldCase: 4, bearerCase: 0 })
      assert.strictEqual(counters.logins, 6)
      const overHttp = W.json(yield* W.send(s, { path: "/_simulator/counters" })) as { leniency: unknown }
      assert.deepStrictEqual(overHttp.leniency, { loginFieldCase: 4, bearerCase: 0 })
      yield* s.resetCounters
      assert.deepStrictEqual((yield* s.counters).leniency, { loginFieldCase: 0, bearerCase: 0 })
    }))

  it.live("business calls take the bearer scheme in any case, counted when it is not spelt Bearer", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const deviceId = yield* s.seedDevice({ nodeId: "lamp-1" })
      const { token } = yield* W.session(s, demo)
      const paths = [W.devicesPath, W.devicePath(deviceId), W.commandsPath, W.subscriptionsPath]
      for (const scheme of ["bearer", "BEARER", "Bearer"]) {
        for (const path of paths) {
          const res = yield* W.call(s, { appKey: demo.appId, token, scheme }, { path })
          assert.strictEqual(res.status, 200, `${scheme} ${path}`)
        }
      }
      // Counted even when the token is then refused.
      const refused = yield* W.call(s, { appKey: demo.appId, token: "0".repeat(32), scheme: "bearer" }, {
        path: W.devicesPath
      })
      assert.strictEqual(refused.status, 403)
      assert.deepStrictEqual((yield* s.counters).leniency, { loginFieldCase: 0, bearerCase: 9 })
    }))
})

/**
 * Every rule and error code of the simulator, checked over the wire (HTTPS) with Node's own
 * `https` client: no code of this project on the client side.
 *
 * Note: `layer(...)` from @effect/vitest patches the shared `it`, so after it the top-level
 * `it.effect` no longer provides TestClock; TestClock tests live in Expiry.test.ts.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import * as Logs from "@iocm/testing/Logs"
import type { Layer } from "effect"
import { ConfigProvider, Effect, Redacted } from "effect"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const frozenApp = { appId: "frozen-app", secret: "frozen-secret", frozen: true }
const otherApp = { appId: "other-app", secret: "other-secret" }

const SimulatorLive = Simulator.layer({ apps: [frozenApp, otherApp] })

const platformError = (code: string, desc: string) => ({ error_code: code, error_desc: desc })

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }

layer(SimulatorLive, { excludeTestServices: true })("simulator over HTTPS", (it) => {
  const sim = Simulator.Simulator

  describe("login", () => {
    it.effect("answers the five fields: tokenType bearer, expiresIn a number, 32-hex tokens", () =>
      Effect.gen(function*() {
        const s = yield* sim
        assert.match(s.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
        const res = yield* W.login(s, demo)
        assert.strictEqual(res.status, 200)
        assert.match(String(res.headers["content-type"]), /^application\/json/)
        const body = W.tokens(res)
        assert.deepStrictEqual(Object.keys(body).sort(), [
          "accessToken",
          "expiresIn",
          "refreshToken",
          "scope",
          "tokenType"
        ])
        assert.strictEqual(body.tokenType, "bearer")
        assert.strictEqual(body.expiresIn, 3600)
        assert.strictEqual(body.scope, "default")
        assert.match(body.accessToken, /^[0-9a-f]{32}$/)
        assert.match(body.refreshToken, /^[0-9a-f]{32}$/)
      }))

    it.effect("wrong secret or unknown appId: 401/100208", () =>
      Effect.gen(function*() {
        const s = yield* sim
        for (const fields of [{ ...demo, secret: "wrong" }, { appId: "nobody", secret: demo.secret }]) {
          const res = yield* W.login(s, fields)
          assert.deepStrictEqual(W.errorOf(res), {
            status: 401,
            body: platformError("100208", "AppId or secret is not right.")
          })
        }
      }))

    it.effect("frozen app: 400/100449", () =>
      Effect.gen(function*() {
        const res = yield* W.login(yield* sim, { appId: frozenApp.appId, secret: frozenApp.secret })
        assert.deepStrictEqual(W.errorOf(res), {
          status: 400,
          body: platformError("100449", "The device is freezed cant operate.")
        })
      }))

    it.effect("missing or empty field, or no body: 400/102202", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const expected = { status: 400, body: platformError("102202", "Required Parameter is null or empty.") }
        assert.deepStrictEqual(W.errorOf(yield* W.login(s, { appId: demo.appId })), expected)
        assert.deepStrictEqual(W.errorOf(yield* W.login(s, { secret: demo.secret })), expected)
        assert.deepStrictEqual(W.errorOf(yield* W.login(s, { appId: "", secret: demo.secret })), expected)
        assert.deepStrictEqual(W.errorOf(yield* W.login(s, { appId: demo.appId, secret: "" })), expected)
        assert.deepStrictEqual(W.errorOf(yield* W.send(s, { method: "POST", path: W.loginPath })), expected)
        // A JSON body is not the form the login API reads: its fields are missing.
        const json = yield* W.send(s, {
          path: W.loginPath,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(demo)
        })
        assert.deepStrictEqual(W.errorOf(json), expected)
        // A form body under another type carries no field either: a client that forgot the
        // content type must learn it here.
        for (const contentType of ["application/json", "text/plain", undefined]) {
          const mislabelled = yield* W.login(s, demo, {
            headers: contentType === undefined ? {} : { "content-type": contentType }
          })
          assert.deepStrictEqual(W.errorOf(mislabelled), expected, String(contentType))
        }
        const withCharset = yield* W.login(s, demo, {
          headers: { "content-type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8" }
        })
        assert.strictEqual(withCharset.status, 200)
      }))

    it.effect("a field over 256 characters: 400/50400; exactly 256 is accepted as input", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const invalid = { status: 400, body: platformError("50400", "The input is invalid.") }
        assert.deepStrictEqual(W.errorOf(yield* W.login(s, { appId: "a".repeat(257), secret: demo.secret })), invalid)
        assert.deepStrictEqual(W.errorOf(yield* W.login(s, { appId: demo.appId, secret: "s".repeat(257) })), invalid)
        // 256 characters pass the input check, and then fail on the credentials.
        assert.strictEqual((yield* W.login(s, { appId: "a".repeat(256), secret: demo.secret })).status, 401)
      }))

    it.effect("a malformed form body is a platform-style 400, never a crash", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const res = yield* W.send(s, {
          path: W.loginPath,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "%%%&&&==appId"
        })
        assert.strictEqual(res.status, 400)
        assert.strictEqual((W.json(res) as { error_code: string }).error_code, "102202")
      }))
  })

  describe("refresh", () => {
    it.effect("rotates: new tokens; the old refresh token is then rejected with 401/100006", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const first = W.tokens(yield* W.login(s, demo))
        const res = yield* W.refresh(s, { ...demo, refreshToken: first.refreshToken })
        assert.strictEqual(res.status, 200)
        const second = W.tokens(res)
        assert.strictEqual(second.tokenType, "bearer")
        assert.strictEqual(second.expiresIn, 3600)
        assert.notStrictEqual(second.accessToken, first.accessToken)
        assert.notStrictEqual(second.refreshToken, first.refreshToken)
        const again = yield* W.refresh(s, { ...demo, refreshToken: first.refreshToken })
        assert.deepStrictEqual(W.errorOf(again), {
          status: 401,
          body: platformError("100006", "Refresh access token failed.")
        })
      }))

    it.effect("unknown refresh token, or another app's: 401/100006", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const theirs = W.tokens(yield* W.login(s, otherApp))
        yield* W.login(s, demo)
        for (const refreshToken of ["0123456789abcdef0123456789abcdef", theirs.refreshToken]) {
          const res = yield* W.refresh(s, { ...demo, refreshToken })
          assert.deepStrictEqual(W.errorOf(res), {
            status: 401,
            body: platformError("100006", "Refresh access token failed.")
          })
        }
      }))

    it.effect("wrong secret: 401/100208; frozen app: 400/100449", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const first = W.tokens(yield* W.login(s, demo))
        const wrong = yield* W.refresh(s, { ...demo, secret: "wrong", refreshToken: first.refreshToken })
        assert.deepStrictEqual(W.errorOf(wrong), {
          status: 401,
          body: platformError("100208", "AppId or secret is not right.")
        })
        const frozen = yield* W.refresh(s, { ...frozenApp, refreshToken: first.refreshToken })
        assert.deepStrictEqual(W.errorOf(frozen), {
          status: 400,
          body: platformError("100449", "The device is freezed cant operate.")
        })
      }))

    it.effect("missing, null or empty field: 400/102202", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const expected = { status: 400, body: platformError("102202", "Required Parameter is null or empty.") }
        const bodies: Array<unknown> = [
          { appId: demo.appId, secret: demo.secret },
          { appId: demo.appId, refreshToken: "x" },
          { secret: demo.secret, refreshToken: "x" },
          { ...demo, refreshToken: "" },
          { ...demo, refreshToken: null },
          ""
        ]
        for (const body of bodies) {
          assert.deepStrictEqual(W.errorOf(yield* W.refresh(s, body)), expected, JSON.stringify(body))
        }
      }))

    it.effect("a JSON body under another content type: 400/50400, and the refresh token is not spent", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { refreshToken } = W.tokens(yield* W.login(s, demo))
        const body = { ...demo, refreshToken }
        for (const contentType of ["text/plain", "application/x-www-form-urlencoded"]) {
          const mislabelled = yield* W.refresh(s, body, { headers: { "content-type": contentType } })
          assert.deepStrictEqual(
            W.errorOf(mislabelled),
            { status: 400, body: platformError("50400", "The input is invalid.") },
            contentType
          )
        }
        const labelled = yield* W.refresh(s, body, { headers: { "content-type": "application/json; charset=utf-8" } })
        assert.strictEqual(labelled.status, 200)
      }))

    it.effect("a field over 256 characters, a wrong type or malformed JSON: 400/50400", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const expected = { status: 400, body: platformError("50400", "The input is invalid.") }
        const bodies: Array<unknown> = [
          { ...demo, refreshToken: "r".repeat(257) },
          { ...demo, appId: "a".repeat(257), refreshToken: "x" },
          { ...demo, refreshToken: 42 },
          "{\"appId\": ",
          "[1,2,3]",
          "null",
          "not json at all"
        ]
        for (const body of bodies) {
          assert.deepStrictEqual(W.errorOf(yield* W.refresh(s, body)), expected, JSON.stringify(body))
        }
      }))
  })

  describe("business endpoint", () => {
    it.effect("answers with app_key and a valid bearer token", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { accessToken } = W.tokens(yield* W.login(s, demo))
        const res = yield* W.devices(s, { appKey: demo.appId, token: accessToken })
        assert.strictEqual(res.status, 200)
        assert.deepStrictEqual(W.json(res), { totalCount: 0, pageNo: 0, pageSize: 10, devices: [] })
      }))

    it.effect("missing app_key: 401/100025", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { accessToken } = W.tokens(yield* W.login(s, demo))
        assert.deepStrictEqual(W.errorOf(yield* W.devices(s, { token: accessToken })), {
          status: 401,
          body: platformError("100025", "AppId for auth not exist.")
        })
      }))

    it.effect("invalid token, no token, or another app's app_key: 403/1010005", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { accessToken } = W.tokens(yield* W.login(s, demo))
        const expected = { status: 403, body: platformError("1010005", "Invalid access token or appId.") }
        assert.deepStrictEqual(W.errorOf(yield* W.devices(s, { appKey: demo.appId, token: "0".repeat(32) })), expected)
        assert.deepStrictEqual(W.errorOf(yield* W.devices(s, { appKey: demo.appId })), expected)
        assert.deepStrictEqual(W.errorOf(yield* W.devices(s, { appKey: otherApp.appId, token: accessToken })), expected)
      }))

    it.effect("one valid access token per app: after a new login the old token gets 403/1010005", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const first = W.tokens(yield* W.login(s, demo))
        const second = W.tokens(yield* W.login(s, demo))
        const old = yield* W.devices(s, { appKey: demo.appId, token: first.accessToken })
        assert.deepStrictEqual(W.errorOf(old), {
          status: 403,
          body: platformError("1010005", "Invalid access token or appId.")
        })
        assert.strictEqual((yield* W.devices(s, { appKey: demo.appId, token: second.accessToken })).status, 200)
        // A refresh invalidates the previous access token too.
        const third = W.tokens(yield* W.refresh(s, { ...demo, refreshToken: second.refreshToken }))
        assert.strictEqual((yield* W.devices(s, { appKey: demo.appId, token: second.accessToken })).status, 403)
        assert.strictEqual((yield* W.devices(s, { appKey: demo.appId, token: third.accessToken })).status, 200)
      }))
  })

  describe("transport and robustness", () => {
    it.effect("a body over 64 KiB is refused with 413 and a platform-style body (declared length)", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const res = yield* W.login(s, { appId: demo.appId, secret: "x".repeat(70 * 1024) })
        assert.deepStrictEqual(W.errorOf(res), { status: 413, body: platformError("50400", "The input is invalid.") })
      }))

    it.effect("Expect: 100-continue gets a 100, then the normal answer to the body sent after it", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { continued, response } = yield* W.loginExpectingContinue(s, new URLSearchParams(demo).toString())
        assert.isTrue(continued)
        assert.strictEqual(response.status, 200)
        assert.match(W.tokens(response).accessToken, /^[0-9a-f]{32}$/)
      }))

    it.effect("Expect: 100-continue with a declared body over 64 KiB: no 100, a 413 with the platform's body", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { continued, response } = yield* W.loginExpectingContinue(
          s,
          new URLSearchParams({ appId: demo.appId, secret: "x".repeat(70 * 1024) }).toString()
        )
        assert.isFalse(continued)
        assert.deepStrictEqual(W.errorOf(response), {
          status: 413,
          body: platformError("50400", "The input is invalid.")
        })
      }))

    it.effect("a chunked body over 64 KiB is refused with 413 as it arrives", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const res = yield* W.refresh(s, JSON.stringify({ ...demo, refreshToken: "r".repeat(100 * 1024) }), {
          chunked: 8 * 1024
        })
        assert.deepStrictEqual(W.errorOf(res), { status: 413, body: platformError("50400", "The input is invalid.") })
      }))

    it.effect("a body just under 64 KiB is read (and then judged on its fields)", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const padding = "p".repeat(64 * 1024 - 200)
        const res = yield* W.send(s, {
          path: W.loginPath,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `${new URLSearchParams(demo).toString()}&padding=${padding}`
        })
        assert.strictEqual(res.status, 200)
      }))

    it.effect("unknown route: 404; wrong method on a known path: 405; both platform-style JSON", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const missing = yield* W.send(s, { path: "/nothing/here" })
        assert.strictEqual(missing.status, 404)
        assert.strictEqual((W.json(missing) as { error_code: string }).error_code, "404")
        // Under /iocm/app/ the platform authenticates first (Gateway.test.ts): 401/100025 without an
        // app key, 404 only to a call it accepts.
        assert.strictEqual((yield* W.send(s, { path: "/iocm/app/nothing/here" })).status, 401)
        const { accessToken } = W.tokens(yield* W.login(s, demo))
        const unknown = yield* W.devices(s, { appKey: demo.appId, token: accessToken }, {
          path: "/iocm/app/nothing/here"
        })
        assert.deepStrictEqual(W.errorOf(unknown), { status: 404, body: platformError("404", "Resource not found.") })
        const wrong = yield* W.send(s, { path: W.loginPath })
        assert.strictEqual(wrong.status, 405)
        assert.strictEqual(wrong.headers["allow"], "POST")
        assert.strictEqual((W.json(wrong) as { error_code: string }).error_code, "405")
      }))

    it.effect("paths are exact: another case, a trailing or a doubled slash is 404", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const paths = [
          W.loginPath.toUpperCase(),
          `${W.loginPath}/`,
          W.loginPath.replace("login", "Login"),
          W.loginPath.replace("/app/", "//app/")
        ]
        for (const path of paths) {
          const answer = yield* W.login(s, demo, { path })
          assert.strictEqual(answer.status, 404, path)
        }
      }))

    it.effect("the server certificate is valid for 127.0.0.1 and localhost under the test CA only", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const viaLocalhost = { baseUrl: s.baseUrl.replace("127.0.0.1", "localhost"), ca: s.ca }
        assert.strictEqual((yield* W.login(viaLocalhost, demo)).status, 200)
        const untrusted = yield* Effect.flip(W.login(s, demo, { ca: W.fixture("other-ca.pem") }))
        assert.match(String(untrusted.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/)
      }))

    it.effect("the service exposes the CA and a client identity signed by it", () =>
      Effect.gen(function*() {
        const s = yield* sim
        assert.strictEqual(s.ca, W.fixture("ca.pem"))
        assert.strictEqual(s.clientCert, W.fixture("client.pem"))
        assert.strictEqual(s.clientKey, W.fixture("client-key.pem"))
        assert.strictEqual(s.app.appId, demo.appId)
        assert.strictEqual(Redacted.value(s.app.secret), demo.secret)
        assert.strictEqual(String(s.app.secret), "<redacted>")
        assert.isFalse(s.mutualTls)
      }))
  })

  describe("counters", () => {
    it.effect("requests per endpoint and outcome, logins, refreshes, the current token", () =>
      Effect.gen(function*() {
        const s = yield* sim
        yield* s.resetCounters
        const first = W.tokens(yield* W.login(s, demo))
        yield* W.login(s, { ...demo, secret: "wrong" })
        const second = W.tokens(yield* W.refresh(s, { ...demo, refreshToken: first.refreshToken }))
        yield* W.refresh(s, { ...demo, refreshToken: first.refreshToken })
        yield* W.devices(s, { appKey: demo.appId, token: second.accessToken })
        yield* W.devices(s, { token: second.accessToken })
        yield* W.send(s, { path: "/nope" })
        const c = yield* s.counters
        assert.deepStrictEqual(c.requests, {
          login: { ok: 1, "100208": 1 },
          refresh: { ok: 1, "100006": 1 },
          devices: { ok: 1, "100025": 1 },
          other: { "404": 1 }
        })
        assert.strictEqual(c.logins, 1)
        assert.strictEqual(c.refreshes, 1)
        assert.strictEqual(c.businessCalls, 1)
        const token = c.tokens[demo.appId]
        assert.isDefined(token)
        assert.strictEqual(Redacted.value(token!.accessToken), second.accessToken)
        assert.strictEqual(Redacted.value(token!.refreshToken), second.refreshToken)
        assert.isTrue(token!.accessTokenValid)
        assert.strictEqual(token!.accessTokenExpiresAt - token!.issuedAt, 3600_000)
        assert.strictEqual(token!.refreshTokenExpiresAt - token!.issuedAt, 30 * 24 * 3600_000)
      }))
  })

  describe("control", () => {
    it.effect("freeze, unfreeze, register an app, revoke tokens", () =>
      Effect.gen(function*() {
        const s = yield* sim
        yield* s.registerApp({ appId: "late-app", secret: Redacted.make("late-secret") })
        const issued = W.tokens(yield* W.login(s, { appId: "late-app", secret: "late-secret" }))
        yield* s.freezeApp("late-app")
        assert.strictEqual((yield* W.login(s, { appId: "late-app", secret: "late-secret" })).status, 400)
        yield* s.unfreezeApp("late-app")
        yield* s.revokeTokens("late-app")
        assert.strictEqual(
          (yield* W.devices(s, { appKey: "late-app", token: issued.accessToken })).status,
          403
        )
        assert.strictEqual((yield* W.login(s, { appId: "late-app", secret: "late-secret" })).status, 200)
        const missing = yield* Effect.flip(s.freezeApp("nobody"))
        assert.strictEqual(missing._tag, "NoSuchElementError")
      }))

    it.effect("the HTTP control API: counters without token values, faults, freeze", () =>
      Effect.gen(function*() {
        const s = yield* sim
        const { accessToken, refreshToken } = W.tokens(yield* W.login(s, demo))
        const counters = yield* W.send(s, { path: "/_simulator/counters" })
        assert.strictEqual(counters.status, 200)
        assert.notInclude(counters.text, accessToken)
        assert.notInclude(counters.text, refreshToken)
        assert.include(counters.text, "\"logins\"")
        const put = yield* W.send(s, {
          method: "PUT",
          path: "/_simulator/faults/login",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ errorRate: 1, times: 1 })
        })
        assert.strictEqual(put.status, 204)
        assert.strictEqual((yield* W.login(s, demo)).status, 500)
        assert.strictEqual((yield* W.login(s, demo)).status, 200)
        const bad = yield* W.send(s, {
          method: "PUT",
          path: "/_simulator/faults/login",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ latency: "soon" })
        })
        assert.strictEqual(bad.status, 400)
        // Out of range, misspelt or endless faults are refused, not silently clamped or ignored.
        for (
          const faults of [{ errorRate: 2 }, { errorRate: -1 }, { reset: 1.5 }, { bogus: 1 }, {
            latency: 99_999_999_999
          }]
        ) {
          const refused = yield* W.send(s, {
            method: "PUT",
            path: "/_simulator/faults/login",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(faults)
          })
          assert.strictEqual(refused.status, 400, JSON.stringify(faults))
        }
        assert.strictEqual((yield* W.login(s, demo)).status, 200)
        assert.strictEqual(
          (yield* W.send(s, { method: "POST", path: `/_simulator/apps/${otherApp.appId}/freeze` })).status,
          204
        )
        assert.strictEqual((yield* W.login(s, otherApp)).status, 400)
        assert.strictEqual(
          (yield* W.send(s, { method: "POST", path: `/_simulator/apps/${otherApp.appId}/unfreeze` })).status,
          204
        )
        assert.strictEqual((yield* W.send(s, { method: "POST", path: "/_simulator/apps/nobody/freeze" })).status, 404)
      }))
  })
})

describe("simulator options", () => {
  it.live("frozenCode 100247 answers 400/100247", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ frozenCode: "100247", apps: [frozenApp] })
      const res = yield* W.login(s, { appId: frozenApp.appId, secret: frozenApp.secret })
      assert.deepStrictEqual(W.errorOf(res), {
        status: 400,
        body: platformError("100247", "Operation not allowed. The application has been frozen.")
      })
    }))

  it.live("the main app comes from options; expiresIn follows tokenLifetime", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ app: { appId: "mine", secret: "my-secret" }, tokenLifetime: "300 seconds" })
      assert.strictEqual(s.app.appId, "mine")
      assert.strictEqual((yield* W.login(s, demo)).status, 401)
      assert.strictEqual(W.tokens(yield* W.login(s, { appId: "mine", secret: "my-secret" })).expiresIn, 300)
    }))

  it.live("flow control: more than N calls per window per app get 403/1010004", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ rateLimit: { limit: 3, window: "1 minute" }, apps: [otherApp] })
      const mine = W.tokens(yield* W.login(s, demo))
      const theirs = W.tokens(yield* W.login(s, otherApp))
      for (let i = 0; i < 3; i++) {
        assert.strictEqual((yield* W.devices(s, { appKey: demo.appId, token: mine.accessToken })).status, 200)
      }
      const throttled = yield* W.devices(s, { appKey: demo.appId, token: mine.accessToken })
      assert.deepStrictEqual(W.errorOf(throttled), {
        status: 403,
        body: platformError("1010004", "app throttle exceed.")
      })
      assert.strictEqual((yield* W.devices(s, { appKey: otherApp.appId, token: theirs.accessToken })).status, 200)
    }))

  it.live("the default flow control is 100 calls per 60 s", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const { accessToken } = W.tokens(yield* W.login(s, demo))
      const statuses = yield* Effect.forEach(
        Array.from({ length: 101 }),
        () => Effect.map(W.devices(s, { appKey: demo.appId, token: accessToken }), (r) => r.status),
        { concurrency: 10 }
      )
      assert.strictEqual(statuses.filter((x) => x === 200).length, 100)
      assert.strictEqual(statuses.filter((x) => x === 403).length, 1)
    }))

  it.live("business errors with resultcode/resultmsg keys and a custom app-key header", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ businessErrorKeys: "resultcode", appKeyHeader: "x-app-key" })
      const { accessToken } = W.tokens(yield* W.login(s, demo))
      const bad = yield* W.send(s, {
        path: W.devicesPath,
        headers: { "x-app-key": demo.appId, authorization: `Bearer ${"0".repeat(32)}` }
      })
      assert.deepStrictEqual(W.errorOf(bad), {
        status: 403,
        body: { resultcode: "1010005", resultmsg: "Invalid access token or appId." }
      })
      const good = yield* W.send(s, {
        path: W.devicesPath,
        headers: { "x-app-key": demo.appId, authorization: `bearer ${accessToken}` }
      })
      assert.strictEqual(good.status, 200)
      // With another header name, app_key alone is "missing".
      const missing = yield* W.devices(s, { appKey: demo.appId, token: accessToken })
      assert.strictEqual(missing.status, 401)
    }))

  it.live("a short lifetime expires the access token (real clock): 403/1010005, refresh still works", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ tokenLifetime: "300 millis" })
      const issued = W.tokens(yield* W.login(s, demo))
      assert.strictEqual(issued.expiresIn, 1)
      yield* Effect.sleep("350 millis")
      const expired = yield* W.devices(s, { appKey: demo.appId, token: issued.accessToken })
      assert.deepStrictEqual(W.errorOf(expired), {
        status: 403,
        body: platformError("1010005", "Invalid access token or appId.")
      })
      assert.strictEqual((yield* W.refresh(s, { ...demo, refreshToken: issued.refreshToken })).status, 200)
    }))

  it.live("plain HTTP on request", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ protocol: "http" })
      assert.match(s.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(s.protocol, "http")
      assert.strictEqual((yield* W.login(s, demo)).status, 200)
    }))

  it.live("invalid options fail with SimulatorError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Simulator.make({ tokenLifetime: "0 seconds" }))
      assert.strictEqual(error._tag, "SimulatorError")
      assert.strictEqual(error.reason, "Options")
      const port = yield* Effect.flip(Simulator.make({ port: 70000 }))
      assert.strictEqual(port.reason, "Options")
      const mtls = yield* Effect.flip(Simulator.make({ protocol: "http", tls: { mutual: true } }))
      assert.strictEqual(mtls.reason, "Options")
      const pem = yield* Effect.flip(Simulator.make({ tls: { key: "not a key" } }))
      assert.strictEqual(pem.reason, "Tls")
    }))

  it.live("a busy port fails with SimulatorError Listen", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const error = yield* Effect.flip(Simulator.make({ port: s.port }))
      assert.strictEqual(error.reason, "Listen")
    }))

  it.effect("appConfig: an empty IOCM_APP_ID is missing by default, refused when a provider keeps empty strings", () =>
    Effect.gen(function*() {
      const read = (preserveEmptyStrings: boolean) =>
        Simulator.appConfig.pipe(
          Effect.provide(
            ConfigProvider.layer(ConfigProvider.fromEnv({ env: { IOCM_APP_ID: "" }, preserveEmptyStrings }))
          )
        )
      assert.strictEqual((yield* read(false)).appId, Simulator.demoApp.appId)
      const error = yield* Effect.flip(read(true))
      assert.include(String(error), "IOCM_APP_ID must not be empty")
    }))

  it.live("request logs carry method, path, status and outcome, never a secret or a token", () =>
    Effect.gen(function*() {
      const capture = Logs.capture()
      const s = yield* Simulator.make({ logRequests: true }).pipe(Effect.provide(capture.layer))
      const first = W.tokens(yield* W.login(s, demo))
      const second = W.tokens(yield* W.refresh(s, { ...demo, refreshToken: first.refreshToken }))
      yield* W.devices(s, { appKey: demo.appId, token: second.accessToken })
      yield* W.login(s, { ...demo, secret: "wrong-secret-value" })
      const lines = capture.messages()
      assert.strictEqual(lines.length, 4)
      assert.match(lines[0]!, /^POST \/iocm\/app\/sec\/v1\.1\.0\/login 200 ok \d+ms$/)
      assert.match(lines[3]!, /^POST \/iocm\/app\/sec\/v1\.1\.0\/login 401 100208 \d+ms$/)
      const all = lines.join("\n")
      for (
        const secret of [demo.secret, "wrong-secret-value", first.accessToken, first.refreshToken, second.accessToken]
      ) {
        assert.notInclude(all, secret)
      }
    }))
})

describe("counting and logging: one middleware for every request", () => {
  const json = { "content-type": "application/json" }

  it.live("control calls, refused control calls, 404 and 405 are counted under other, once each", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      yield* W.send(s, { path: "/_simulator/counters" })
      yield* W.send(s, { method: "PUT", path: "/_simulator/faults/nowhere", headers: json, body: "{}" })
      yield* W.send(s, { method: "PUT", path: "/_simulator/faults/login", headers: json, body: "{\"bogus\":1}" })
      yield* W.send(s, { path: W.loginPath })
      yield* W.send(s, { path: "/nope" })
      const c = yield* s.counters
      assert.deepStrictEqual(c.requests, {
        login: {},
        refresh: {},
        devices: {},
        other: { control: 1, "404": 2, "50400": 1, "405": 1 }
      })
    }))

  it.live("the log has every request, faults and control calls too; a reset shows no status", () =>
    Effect.gen(function*() {
      const capture = Logs.capture()
      const s = yield* Simulator.make({ logRequests: true, faults: { refresh: { reset: true } } }).pipe(
        Effect.provide(capture.layer)
      )
      yield* Effect.flip(W.refresh(s, { ...demo, refreshToken: "x" }))
      yield* W.send(s, { method: "POST", path: "/_simulator/revoke" })
      yield* W.send(s, { path: W.loginPath })
      const lines = capture.messages()
      assert.strictEqual(lines.length, 3)
      assert.match(lines[0]!, /^POST \/iocm\/app\/sec\/v1\.1\.0\/refreshToken --- reset \d+ms$/)
      assert.match(lines[1]!, /^POST \/_simulator\/revoke 204 control \d+ms$/)
      assert.match(lines[2]!, /^GET \/iocm\/app\/sec\/v1\.1\.0\/login 405 405 \d+ms$/)
    }))
})

// The layer is a plain Layer: it composes.
export const _composes: Layer.Layer<Simulator.Simulator, Simulator.SimulatorError> = SimulatorLive

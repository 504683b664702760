import { assert, describe, it } from "@effect/vitest"
import * as Loopback from "@iocm/testing/Loopback"
import * as TestServer from "@iocm/testing/TestServer"
import { Effect, Option, Redacted, Result, Schema } from "effect"
import * as TestClock from "effect/testing/TestClock"
import { maxNestingDepth } from "../src/internal/response.js"
import * as IocmAuth from "../src/IocmAuth.js"
import * as Wire from "../src/Wire.js"
import {
  accessToken,
  appId,
  authLayer,
  capturedSuccess,
  containsNoSecret,
  refreshToken,
  secret
} from "./utils/fixtures.js"

const login = Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login)
const refresh = (token: string) => Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.refresh(Redacted.make(token)))

/** How a login and a refresh against `url` fail, in that order. */
const bothErrors = (url: string) =>
  Effect.all([
    Effect.flip(login.pipe(Effect.provide(authLayer(url)))),
    Effect.flip(refresh(refreshToken).pipe(Effect.provide(authLayer(url))))
  ])

describe("IocmAuth.login", () => {
  it.effect("sends a form-urlencoded POST with appId and secret in the body, never in the URL", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      yield* TestClock.setTime(1_700_000_000_000)
      const tokens = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.strictEqual(server.requests.length, 1)
      const [request] = server.requests
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.url, Wire.loginPath)
      assert.strictEqual(request!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.deepStrictEqual(Object.fromEntries(new URLSearchParams(request!.body)), { appId, secret })
      assert.isTrue(containsNoSecret(request!.url))
      assert.strictEqual(Redacted.value(tokens.accessToken), accessToken)
      assert.strictEqual(Redacted.value(Option.getOrThrow(tokens.refreshToken)), refreshToken)
      assert.strictEqual(tokens.tokenType, "bearer")
      assert.strictEqual(tokens.scope, "default")
      assert.strictEqual(tokens.expiresIn, 3600)
      assert.strictEqual(tokens.issuedAt, 1_700_000_000_000)
      assert.strictEqual(tokens.expiresAt, 1_700_000_000_000 + 3_600_000)
      assert.deepStrictEqual(tokens.refreshExpiresAt, Option.some(1_700_000_000_000 + 30 * 24 * 3_600_000))
    }))

  it.effect("keeps a path prefix of the base URL and ignores a trailing slash", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      yield* login.pipe(Effect.provide(authLayer(`${server.url}/gateway/`)))
      assert.strictEqual(server.requests[0]!.url, `/gateway${Wire.loginPath}`)
    }))
})

describe("IocmAuth.refresh", () => {
  it.effect("sends a JSON POST with appId, secret and the refresh token", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, { ...capturedSuccess, refreshToken: "rotated-token" }))
      const tokens = yield* refresh(refreshToken).pipe(Effect.provide(authLayer(server.url)))
      const [request] = server.requests
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.url, Wire.refreshPath)
      assert.strictEqual(request!.headers["content-type"], "application/json")
      assert.deepStrictEqual(JSON.parse(request!.body), { appId, secret, refreshToken })
      assert.strictEqual(Redacted.value(Option.getOrThrow(tokens.refreshToken)), "rotated-token")
    }))

  it.effect("both bodies are what Wire's request schemas encode, and decode with them as the simulator does", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      yield* login.pipe(Effect.provide(authLayer(server.url)))
      yield* refresh(refreshToken).pipe(Effect.provide(authLayer(server.url)))
      const [loginSent, refreshSent] = server.requests.map((request) => request.body)
      const loginFields = { appId, secret: Redacted.make(secret) }
      const refreshFields = { ...loginFields, refreshToken: Redacted.make(refreshToken) }
      assert.strictEqual(loginSent, new URLSearchParams(Wire.encodeLoginRequest(loginFields)).toString())
      assert.strictEqual(refreshSent, JSON.stringify(Wire.encodeRefreshRequest(refreshFields)))
      const decodedLogin = Schema.decodeUnknownSync(Wire.LoginRequest)(
        Object.fromEntries(new URLSearchParams(loginSent))
      )
      const decodedRefresh = Schema.decodeUnknownSync(Wire.RefreshRequest)(JSON.parse(refreshSent!))
      assert.strictEqual(Redacted.value(decodedLogin.secret), secret)
      assert.strictEqual(Redacted.value(decodedRefresh.refreshToken), refreshToken)
    }))

  it.effect("uses the configured refresh-token lifetime", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      const tokens = yield* refresh(refreshToken).pipe(
        Effect.provide(authLayer(server.url, { refreshTokenLifetime: "24 hours" }))
      )
      assert.deepStrictEqual(tokens.refreshExpiresAt, Option.some(tokens.issuedAt + 24 * 3_600_000))
    }))
})

describe("decoding the token response", () => {
  const variants: ReadonlyArray<[string, Record<string, unknown>, (t: { expiresIn: number }) => void]> = [
    ["expiresIn as a numeric string", { expiresIn: "3600" }, (t) => assert.strictEqual(t.expiresIn, 3600)],
    ["expiresIn other than 3600", { expiresIn: 300 }, (t) => assert.strictEqual(t.expiresIn, 300)],
    ["tokenType Bearer", { tokenType: "Bearer" }, () => {}],
    ["tokenType BEARER", { tokenType: "BEARER" }, () => {}]
  ]
  for (const [name, patch, check] of variants) {
    it.effect(`accepts ${name}`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.json(200, { ...capturedSuccess, ...patch }))
        check(yield* login.pipe(Effect.provide(authLayer(server.url))))
      }))
  }

  it.effect("treats an empty refreshToken as none, and a null or absent scope as \"default\"", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(200, { ...capturedSuccess, refreshToken: "", scope: null })
      )
      const tokens = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.isTrue(Option.isNone(tokens.refreshToken))
      assert.strictEqual(tokens.scope, "default")
    }))

  it.effect("treats a null or absent refreshToken as none (old platforms)", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, { ...capturedSuccess, refreshToken: null }))
      const withNull = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.isTrue(Option.isNone(withNull.refreshToken))
      assert.isTrue(Option.isNone(withNull.refreshExpiresAt))
      const { refreshToken: _, ...withoutRefreshToken } = capturedSuccess
      server.answer = TestServer.json(200, withoutRefreshToken)
      const absent = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.isTrue(Option.isNone(absent.refreshToken))
    }))

  const malformed: ReadonlyArray<[string, Record<string, unknown>]> = [
    ["expiresIn 0", { expiresIn: 0 }],
    ["a negative expiresIn", { expiresIn: -5 }],
    ["a fractional expiresIn", { expiresIn: 1.5 }],
    ["a non-numeric expiresIn string", { expiresIn: "soon" }],
    ["a boolean expiresIn", { expiresIn: true }],
    ["a hexadecimal expiresIn string", { expiresIn: "0x10" }],
    ["an exponent expiresIn string", { expiresIn: "1e3" }],
    ["a padded expiresIn string", { expiresIn: " 3600 " }],
    ["a tokenType other than bearer", { tokenType: "mac" }],
    ["an empty accessToken", { accessToken: "" }],
    ["a numeric accessToken", { accessToken: 12345 }],
    ["an accessToken that would inject a header", { accessToken: "abc\r\nX-Injected: 1" }],
    ["an accessToken with a space", { accessToken: "abc def" }],
    ["a refreshToken with a control character", { refreshToken: "abc\u0000def" }],
    ["an expiresIn past 2^31 - 1 seconds", { expiresIn: 2_147_483_648 }],
    ["an expiresIn of Number.MAX_SAFE_INTEGER", { expiresIn: Number.MAX_SAFE_INTEGER }],
    ["an expiresIn string of 15 digits", { expiresIn: "999999999999999" }],
    ["no accessToken", { accessToken: undefined }]
  ]
  for (const [name, patch] of malformed) {
    it.effect(`refuses ${name} as MalformedResponse`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.json(200, { ...capturedSuccess, ...patch }))
        const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
        assert.strictEqual(error._tag, "MalformedResponse")
        assert.strictEqual(error.httpStatus, 200)
        assert.isFalse(error.retryable)
        assert.isTrue(containsNoSecret(error.message))
        assert.isTrue(containsNoSecret(JSON.stringify(error)))
      }))
  }
})

describe("the platform's errors", () => {
  const rows: ReadonlyArray<[number, string, string, boolean]> = [
    [400, "100449", "AccountFrozen", false],
    [400, "102202", "MissingParameter", false],
    [400, "50400", "InvalidInput", false],
    [400, "100022", "InvalidInput", false],
    [401, "100208", "InvalidCredentials", false],
    [500, "50252", "PlatformInternalError", true],
    [500, "100008", "PlatformInternalError", true],
    [401, "100006", "RefreshTokenRejected", false],
    [400, "100247", "ApplicationFrozen", false],
    [400, "123456", "UnknownPlatformError", false],
    [503, "999999", "UnknownPlatformError", true]
  ]
  for (const [status, code, tag, retryable] of rows) {
    it.effect(`${status}/${code} is ${tag} (retryable: ${retryable})`, () =>
      Effect.gen(function*() {
        const description = `platform text for ${code}`
        const server = yield* TestServer.make(TestServer.json(status, { error_code: code, error_desc: description }))
        const error = yield* Effect.flip(refresh(refreshToken).pipe(Effect.provide(authLayer(server.url))))
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(error.code, code)
        assert.strictEqual(error.httpStatus, status)
        assert.strictEqual(error.description, description)
        assert.strictEqual(error.retryable, retryable)
        assert.include(error.message, code)
        assert.include(error.message, tag)
      }))
  }

  it.effect("a numeric error_code is normalised to a string", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(401, { error_code: 100208, error_desc: "AppId or secret is not right." })
      )
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "InvalidCredentials")
      assert.strictEqual(error.code, "100208")
      assert.strictEqual(error.description, "AppId or secret is not right.")
    }))

  it.effect("resultcode/resultmsg bodies are accepted as aliases", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(401, { resultcode: "100006", resultmsg: "Refresh access token failed." })
      )
      const error = yield* Effect.flip(refresh(refreshToken).pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "RefreshTokenRejected")
      assert.strictEqual(error.description, "Refresh access token failed.")
    }))

  it.effect("an error body answered with status 200 is still the platform's error", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, { error_code: "100247", error_desc: "frozen" }))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "ApplicationFrozen")
    }))

  it.effect("100006 on login is kept as an unknown error (login takes no refresh token), retryable when 5xx", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(401, { error_code: "100006", error_desc: "x" }))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "UnknownPlatformError")
      assert.strictEqual(error.code, "100006")
      assert.isFalse(error.retryable)
      server.answer = TestServer.json(503, { error_code: "100006", error_desc: "x" })
      const unavailable = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(unavailable._tag, "UnknownPlatformError")
      assert.isTrue(unavailable.retryable)
    }))

  it.effect("a null description, a padded code: still the platform's error", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(401, { error_code: " 100208 ", error_desc: null }))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "InvalidCredentials")
      assert.strictEqual(error.code, "100208")
      assert.strictEqual(error.description, "")
      server.answer = TestServer.json(401, { resultcode: 100006, resultmsg: null })
      const rejected = yield* Effect.flip(refresh(refreshToken).pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(rejected._tag, "RefreshTokenRejected")
    }))
})

describe("malformed responses and transport failures", () => {
  it.effect("an HTML error page keeps its status and an excerpt, retryable when 5xx", () =>
    Effect.gen(function*() {
      const html = `<html><body><h1>502 Bad Gateway</h1>${"<p>nginx</p> ".repeat(40)}</body></html>`
      const server = yield* TestServer.make(TestServer.raw(502, html))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      if (error._tag !== "MalformedResponse") return
      assert.strictEqual(error.httpStatus, 502)
      assert.isTrue(error.retryable)
      assert.strictEqual(error.body.length, 200)
      assert.isTrue(error.body.startsWith("<html><body><h1>502 Bad Gateway</h1>"))
    }))

  it.effect("an empty 4xx body is malformed and not retryable", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.raw(403, ""))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.strictEqual(error.httpStatus, 403)
      assert.isFalse(error.retryable)
      assert.include(error.message, "empty")
    }))

  it.effect("a truncated token body is malformed, with the token masked in the excerpt", () =>
    Effect.gen(function*() {
      const truncated = JSON.stringify(capturedSuccess).slice(0, 40)
      const server = yield* TestServer.make(TestServer.raw(200, truncated, "application/json"))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      if (error._tag !== "MalformedResponse") return
      assert.include(error.body, "\"accessToken\":\"<masked>\"")
      assert.isTrue(containsNoSecret(JSON.stringify(error)))
      assert.isTrue(containsNoSecret(error.message))
    }))

  it.effect("a 2xx that is JSON but not a token set masks the tokens it carries", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, { ...capturedSuccess, expiresIn: "never" }))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.description, "expiresIn")
      assert.isTrue(containsNoSecret(JSON.stringify(error)))
    }))

  it.effect("a connection reset is a retryable TransportError", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.reset)
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "TransportError")
      assert.isTrue(error.retryable)
      assert.isUndefined(error.httpStatus)
      assert.isTrue(containsNoSecret(JSON.stringify(error)))
    }))

  it.effect("a refused connection is a retryable TransportError that says why", () =>
    Effect.gen(function*() {
      const port = yield* Loopback.closedPort
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(`https://127.0.0.1:${port}`))))
      assert.strictEqual(error._tag, "TransportError")
      assert.isTrue(error.retryable)
      assert.include(error.description, "ECONNREFUSED")
    }))

  it.effect("a platform description echoing the secret or the refresh token is masked", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(401, { error_code: "100006", error_desc: `bad token ${refreshToken} for secret ${secret}` })
      )
      const error = yield* Effect.flip(refresh(refreshToken).pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "RefreshTokenRejected")
      assert.strictEqual(error.description, "bad token <masked> for secret <masked>")
      assert.isTrue(containsNoSecret(error.message))
    }))

  it.effect("a 2xx that does not decode masks token-like values under any name", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, { access: accessToken, refresh: refreshToken }))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.isTrue(containsNoSecret(JSON.stringify(error)))
    }))

  it.effect("a body cut off after the headers is no complete response: TransportError, with the status", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.cutOff(200, "{\"accessToken\":\"107abdc8", 100))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(error.httpStatus, 200)
      assert.isTrue(error.retryable)
      assert.include(error.description, "cut off before its declared 100 bytes")
      assert.notInclude(JSON.stringify(error), "107abdc8")
    }))

  for (const status of [302, 307, 308]) {
    it.effect(`a ${status} redirect is not followed: nothing is sent elsewhere`, () =>
      Effect.gen(function*() {
        const elsewhere = yield* TestServer.make(TestServer.json(200, capturedSuccess))
        const server = yield* TestServer.make(TestServer.redirect(status, `${elsewhere.url}/steal`))
        const loginError = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
        const refreshError = yield* Effect.flip(refresh(refreshToken).pipe(Effect.provide(authLayer(server.url))))
        for (const error of [loginError, refreshError]) {
          assert.strictEqual(error._tag, "MalformedResponse")
          assert.strictEqual(error.httpStatus, status)
          assert.include(error.description, "redirect")
        }
        assert.strictEqual(elsewhere.requests.length, 0)
      }))
  }

  it.effect("a documented description is kept as received even when it contains a short secret", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(401, { error_code: "100208", error_desc: "AppId or secret is not right." })
      )
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url, { secret: "secret" }))))
      assert.strictEqual(error.description, "AppId or secret is not right.")
      server.answer = TestServer.json(401, { error_code: "100208", error_desc: "your secret is wrong" })
      const echoed = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url, { secret: "secret" }))))
      assert.strictEqual(echoed.description, "your <masked> is wrong")
    }))

  it.effect("a compressed body is bounded by its inflated size, not by its declared length", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.gzip(500, "y".repeat(1024 * 1024)))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.description, "larger than")
      server.answer = TestServer.gzip(200, JSON.stringify(capturedSuccess))
      const tokens = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.strictEqual(Redacted.value(tokens.accessToken), capturedSuccess.accessToken)
    }))

  it.effect("a token body without a declared length is streamed and decoded", () =>
    Effect.gen(function*() {
      const body = JSON.stringify(capturedSuccess)
      const server = yield* TestServer.make(TestServer.chunked(200, [body.slice(0, 30), body.slice(30)]))
      const tokens = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.strictEqual(Redacted.value(tokens.accessToken), capturedSuccess.accessToken)
    }))

  it.effect("a body without a declared length that breaks off is a TransportError that says how much came", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.chunked(200, ["{\"accessToken\":\"107abdc8"], false))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(error.httpStatus, 200)
      assert.isTrue(error.retryable)
      assert.include(error.description, "cut off after 24 bytes")
    }))

  for (
    const [name, reply] of [["a server that never answers", TestServer.stall], [
      "a body that trickles in",
      TestServer.trickle(50)
    ]] as const
  ) {
    it.live(`${name} is abandoned at requestTimeout as a TransportError, whatever the client`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(reply)
        const started = Date.now()
        const error = yield* Effect.flip(
          login.pipe(Effect.provide(authLayer(server.url, { requestTimeout: "300 millis" })))
        )
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual(error.code, "Timeout")
        assert.include(error.description, "300ms")
        assert.isBelow(Date.now() - started, 3000)
      }))
  }

  it.effect("an oversized body is refused without being read in full", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.raw(500, "y".repeat(1024 * 1024)))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.description, "larger than")
    }))

  const deepBodies: ReadonlyArray<[string, string]> = [
    ["objects", `${"{\"a\":".repeat(3000)}1${"}".repeat(3000)}`],
    ["arrays", `${"[".repeat(3000)}${"]".repeat(3000)}`],
    ["a token field", `{"accessToken":${"[".repeat(3000)}${"]".repeat(3000)},"tokenType":"bearer","expiresIn":3600}`],
    ["an error field", `{"error_code":${"[".repeat(3000)}${"]".repeat(3000)},"error_desc":"x"}`]
  ]
  for (const [name, body] of deepBodies) {
    for (const status of [200, 400]) {
      it.effect(`a ${status} body of ${name} nested 3000 levels deep is MalformedResponse, not a defect`, () =>
        Effect.gen(function*() {
          const server = yield* TestServer.make(TestServer.raw(status, body, "application/json"))
          const errors = yield* bothErrors(server.url)
          for (const error of errors) {
            assert.strictEqual(error._tag, "MalformedResponse")
            assert.strictEqual(error.httpStatus, status)
            assert.include(error.description, `nested too deeply (more than ${maxNestingDepth} levels)`)
          }
        }))
    }
  }

  it.effect("a token body nested to the deepest level accepted, strings with brackets included, still decodes", () =>
    Effect.gen(function*() {
      // `depth` levels in all: the body's object, then arrays around a string full of brackets and escapes.
      const nestedTo = (depth: number) =>
        JSON.stringify(capturedSuccess).replace(
          /}$/,
          `,"extra":${"[".repeat(depth - 1)}"]]]{{{\\\\\\""${"]".repeat(depth - 1)}}`
        )
      const server = yield* TestServer.make(TestServer.raw(200, nestedTo(maxNestingDepth), "application/json"))
      const tokens = yield* login.pipe(Effect.provide(authLayer(server.url)))
      assert.strictEqual(Redacted.value(tokens.accessToken), accessToken)
      server.answer = TestServer.raw(200, nestedTo(maxNestingDepth + 1), "application/json")
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.include(error.description, "nested too deeply")
    }))

  for (const status of [204, 205, 304]) {
    it.effect(`a ${status} without a body is MalformedResponse (the platform answered), not a TransportError`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.raw(status, ""))
        const errors = yield* bothErrors(server.url)
        for (const error of errors) {
          assert.strictEqual(error._tag, "MalformedResponse")
          assert.strictEqual(error.httpStatus, status)
          assert.isFalse(error.retryable)
        }
      }))
  }

  it.effect("a 3xx without a body (a 304 with a location) still says where it pointed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.redirect(304, "https://elsewhere.example/steal"))
      const error = yield* Effect.flip(login.pipe(Effect.provide(authLayer(server.url))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.strictEqual(error.httpStatus, 304)
      assert.include(error.description, "redirect (to https://elsewhere.example/steal)")
    }))
})

describe("validation before any I/O", () => {
  const cases: ReadonlyArray<[string, Effect.Effect<unknown, { _tag: string }, IocmAuth.IocmAuth>, object, string]> = [
    ["an empty appId", login, { appId: "" }, "MissingParameter"],
    ["an empty secret", login, { secret: "" }, "MissingParameter"],
    ["an empty refresh token", refresh(""), {}, "MissingParameter"],
    ["an appId over 256 characters", login, { appId: "a".repeat(257) }, "InvalidInput"],
    ["a secret over 256 characters", login, { secret: "s".repeat(257) }, "InvalidInput"],
    ["a refresh token over 256 characters", refresh("r".repeat(257)), {}, "InvalidInput"],
    ["a secret with a control character", login, { secret: "abc\ndef" }, "InvalidInput"],
    ["a refresh token with a control character", refresh("abc\u0000def"), {}, "InvalidInput"],
    ["an appId with a C1 control character", login, { appId: "app\u0085id" }, "InvalidInput"],
    ["a blank appId", login, { appId: "   " }, "MissingParameter"],
    ["a blank refresh token", refresh(" \t "), {}, "MissingParameter"],
    ["a secret with a lone surrogate", login, { secret: "abc\uD800defgh" }, "InvalidInput"],
    ["a refresh token with a lone surrogate", refresh("tok\uDC00en"), {}, "InvalidInput"]
  ]
  for (const [name, operation, overrides, tag] of cases) {
    it.effect(`${name} fails with ${tag}, detected locally, and nothing is sent`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
        const error = yield* Effect.flip(operation.pipe(Effect.provide(authLayer(server.url, overrides))))
        assert.strictEqual(error._tag, tag)
        const detail = error as unknown as { detectedLocally: boolean; message: string; httpStatus?: number }
        assert.isTrue(detail.detectedLocally)
        assert.isUndefined(detail.httpStatus)
        assert.include(detail.message, "Detected locally; nothing was sent.")
        assert.strictEqual(server.requests.length, 0)
      }))
  }

  it.effect("a plain string from an untyped caller is taken as the refresh token", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      const untyped = Effect.flatMap(
        IocmAuth.IocmAuth,
        (auth) => auth.refresh(refreshToken as unknown as Redacted.Redacted<string>)
      )
      yield* untyped.pipe(Effect.provide(authLayer(server.url)))
      assert.strictEqual(JSON.parse(server.requests[0]!.body).refreshToken, refreshToken)
    }))

  it.effect("exactly 256 characters are allowed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      const result = yield* Effect.result(refresh("r".repeat(256)).pipe(Effect.provide(authLayer(server.url))))
      assert.isTrue(Result.isSuccess(result))
      assert.strictEqual(server.requests.length, 1)
    }))
})

import { assert, describe, it } from "@effect/vitest"
import { PlatformConfig, Wire } from "@iocm/core"
import { FakeAuth, Logs, Spans, TestServer } from "@iocm/testing"
import { Effect, Layer, Option, Redacted, References, Stream } from "effect"
import { HttpClient, HttpClientError, HttpClientRequest } from "effect/http"
import * as Authenticated from "../src/internal/authenticated.js"
import * as TokenService from "../src/TokenService.js"
import * as TokenStore from "../src/TokenStore.js"

const appId = "my-app"

/** The business API's answer to a call with a token it knows. */
const ok = TestServer.json(200, { totalCount: 0, pageNo: 0, pageSize: 10, devices: [] })
/** The business API's answer to a call with a token it does not know (any more). */
const invalidToken = TestServer.json(403, { resultcode: "1010005", resultmsg: "Invalid access token or appId." })

/** Over HTTPS, trusting the test CA; with no log line printed. */
const live = Layer.merge(TestServer.layerClient, Logs.silent)

/**
 * A fake `IocmAuth` and a hostile business API on loopback that accepts only the token the fake
 * issued last; `revoke` makes the platform forget it (e.g. another login happened).
 */
const hostilePlatform = Effect.gen(function*() {
  const fake = FakeAuth.make()
  let valid: string | undefined
  fake.onIssue = (token) => {
    valid = token
  }
  const server = yield* TestServer.make((request) =>
    request.token !== undefined && request.token === valid ? ok : invalidToken
  )
  const revoke = () => {
    valid = "revoked"
  }
  return { fake, server, revoke }
})

/** The hostile platform, the service, and the authenticated client. */
const setup = (options: { readonly appKeyHeader?: string } = {}) =>
  Effect.gen(function*() {
    const { fake, revoke, server } = yield* hostilePlatform
    const service = yield* TokenService.make().pipe(
      Effect.provide(Layer.merge(fake.layer, TokenStore.layerMemory))
    )
    const client = Authenticated.make(
      (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url))),
      service,
      { appId, appKeyHeader: options.appKeyHeader ?? "app_key" }
    )
    return { fake, server, service, client, revoke }
  })

const devices = `${Wire.devicesPath}?pageNo=0&pageSize=10`

describe("TokenService.authenticated", () => {
  it.live("signs each request with the app key and the bearer token", () =>
    Effect.gen(function*() {
      const { client, fake, server } = yield* setup()
      const response = yield* client.get(devices)
      assert.strictEqual(response.status, 200)
      const [request] = server.requests
      assert.strictEqual(request!.headers["app_key"], appId)
      assert.strictEqual(request!.headers.authorization, "Bearer at-1")
      assert.strictEqual(request!.url, devices)
      assert.strictEqual(fake.logins(), 1)
    }).pipe(Effect.provide(live)))

  it.live("uses the app-key header name of the configuration", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup({ appKeyHeader: "x-app-key" })
      yield* client.get(devices)
      assert.strictEqual(server.requests[0]!.headers["x-app-key"], appId)
      assert.isUndefined(server.requests[0]!.headers["app_key"])
    }).pipe(Effect.provide(live)))

  it.live("20 concurrent calls hitting 1010005: one refresh, 20 replays, all succeed", () =>
    Effect.gen(function*() {
      const { client, fake, revoke, server } = yield* setup()
      yield* client.get(devices)
      revoke()
      const responses = yield* Effect.forEach(Array.from({ length: 20 }), () => client.get(devices), {
        concurrency: "unbounded"
      })
      assert.isTrue(responses.every((response) => response.status === 200))
      assert.strictEqual(fake.refreshes(), 1)
      assert.strictEqual(fake.logins(), 1)
      const sent = server.requests.slice(1)
      assert.strictEqual(sent.length, 40)
      assert.strictEqual(sent.filter((request) => request.token === "at-1").length, 20)
      assert.strictEqual(sent.filter((request) => request.token === "at-2").length, 20)
    }).pipe(Effect.provide(live)))

  it.live("a second 1010005 is returned as is, body intact: one replay, never a loop", () =>
    Effect.gen(function*() {
      const { client, fake, server } = yield* setup()
      server.answer = invalidToken
      const responses = yield* Effect.forEach(Array.from({ length: 20 }), () => client.get(devices), {
        concurrency: "unbounded"
      })
      assert.strictEqual(server.requests.length, 40)
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.refreshes(), 1)
      for (const response of responses) {
        assert.strictEqual(response.status, 403)
        assert.deepStrictEqual(yield* response.json, {
          resultcode: "1010005",
          resultmsg: "Invalid access token or appId."
        })
      }
      // The next call again replays at most once.
      yield* client.get(devices)
      assert.strictEqual(server.requests.length, 42)
      assert.strictEqual(fake.refreshes(), 2)
    }).pipe(Effect.provide(live)))

  it.live("401/100002 (older platforms, error_code body) is replayed too", () =>
    Effect.gen(function*() {
      const { client, fake, server } = yield* setup()
      yield* client.get(devices)
      let refused = false
      server.answer = () => {
        if (refused) return ok
        refused = true
        return TestServer.json(401, { error_code: 100002, error_desc: "Invalid access token." })
      }
      const response = yield* client.get(devices)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(fake.refreshes(), 1)
      assert.deepStrictEqual(server.requests.map((request) => request.token), ["at-1", "at-1", "at-2"])
    }).pipe(Effect.provide(live)))

  it.live("other refusals are returned untouched, without a refresh", () =>
    Effect.gen(function*() {
      const { client, fake, server } = yield* setup()
      const throttled = { error_code: "1010004", error_desc: "app throttle exceed." }
      server.answer = TestServer.json(403, throttled)
      const response = yield* client.get(devices)
      assert.strictEqual(response.status, 403)
      assert.deepStrictEqual(yield* response.json, throttled)
      server.answer = TestServer.raw(403, "<html>Forbidden</html>", "text/html")
      const html = yield* client.get(devices)
      assert.strictEqual(yield* html.text, "<html>Forbidden</html>")
      assert.strictEqual(html.headers["content-type"], "text/html")
      const big = "x".repeat(200 * 1024)
      server.answer = TestServer.raw(403, big, "text/plain")
      const large = yield* client.get(devices)
      assert.strictEqual((yield* large.text).length, big.length)
      assert.strictEqual(server.requests.length, 3)
      assert.strictEqual(fake.refreshes(), 0)
    }).pipe(Effect.provide(live)))

  it.live("replays a JSON POST with the same body; a streamed body is not replayed", () =>
    Effect.gen(function*() {
      const { client, fake, revoke, server } = yield* setup()
      yield* client.get(devices)
      revoke()
      const request = yield* HttpClientRequest.post("/iocm/app/cmd/v1.4.0/deviceCommands").pipe(
        HttpClientRequest.bodyJson({ deviceId: "d-1", command: { method: "PING" } })
      )
      const response = yield* client.execute(request)
      assert.strictEqual(response.status, 200)
      const [first, replay] = server.requests.slice(1)
      assert.strictEqual(first!.body, replay!.body)
      assert.deepStrictEqual(JSON.parse(replay!.body), { deviceId: "d-1", command: { method: "PING" } })
      revoke()
      const streamed = HttpClientRequest.post("/upload").pipe(
        HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("chunk")))
      )
      const refused = yield* client.execute(streamed)
      assert.strictEqual(refused.status, 403)
      assert.strictEqual(server.requests.length, 4)
      assert.strictEqual(fake.refreshes(), 1)
    }).pipe(Effect.provide(live)))

  it.live("a token flight links to the span of the call that needed it; the replay is a child of the business call's span", () => {
    const capture = Spans.capture()
    return Effect.gen(function*() {
      const { client, revoke } = yield* setup()
      yield* client.get(devices).pipe(Effect.withSpan("list devices"))
      revoke()
      yield* client.get(devices).pipe(Effect.withSpan("list devices again"))
      const named = (name: string) => capture.spans.filter((span) => span.name === name)
      const [first] = named("list devices")
      const [again] = named("list devices again")
      const [cold, refused] = named("iocm.token.flight")
      assert.strictEqual(cold?.attributes.get("reason"), "cold")
      assert.strictEqual(cold?.links[0]?.span, first?.span, "the cold flight links to the first call")
      assert.isTrue(Option.isNone(cold!.parent), "a flight is a root span")
      assert.strictEqual(refused?.attributes.get("reason"), "1010005")
      assert.strictEqual(refused?.links[0]?.span, again?.span, "the flight after 1010005 links to the refused call")
      const [replay] = named("iocm.token.replay")
      assert.strictEqual(Option.getOrUndefined(replay!.parent), again?.span)
      const [login] = named("iocm.token.login")
      assert.strictEqual(Option.getOrUndefined(login!.parent), cold?.span)
    }).pipe(Effect.provide(TestServer.layerClient), Effect.withTracer(capture.tracer))
  })

  it.live("redacts Authorization in spans and logs; refresh and replay spans carry the reason", () => {
    const capture = Spans.capture()
    const logs = Logs.capture()
    return Effect.gen(function*() {
      const { client, revoke } = yield* setup()
      yield* client.get(devices)
      revoke()
      yield* client.get(devices)
      // Effect 4 names client spans after the method, and records headers only when asked to.
      const httpSpans = capture.spans.filter((span) => span.name === "GET")
      assert.strictEqual(httpSpans.length, 3)
      for (const span of httpSpans) {
        assert.strictEqual(span.attributes.get("http.request.header.authorization"), "<redacted>")
      }
      const login = capture.spans.find((span) => span.name === "iocm.token.login")
      assert.strictEqual(login?.attributes.get("reason"), "cold")
      assert.strictEqual(login?.attributes.get("outcome"), "success")
      const refresh = capture.spans.find((span) => span.name === "iocm.token.refresh")
      assert.strictEqual(refresh?.attributes.get("reason"), "1010005")
      assert.isDefined(capture.spans.find((span) => span.name === "iocm.token.replay"))
      const everything = JSON.stringify([
        logs.logs,
        capture.spans.map((span) => Object.fromEntries(span.attributes))
      ])
      assert.notInclude(everything, "at-1")
      assert.notInclude(everything, "at-2")
      assert.notInclude(everything, "rt-1")
      assert.isTrue(logs.logs.some((log) => log.message.includes("replaying once")))
    }).pipe(
      Effect.provide(TestServer.layerClient),
      Effect.provide(logs.layer),
      Effect.provideService(References.MinimumLogLevel, "Debug"),
      Effect.provideService(HttpClient.TracerHeaderFilter, () => true),
      Effect.withTracer(capture.tracer)
    )
  })
})

describe("TokenService.authenticated from the context", () => {
  it.live("is HttpClient → HttpClient: the service and the app key are read from each request's context", () =>
    Effect.gen(function*() {
      const { fake, revoke, server } = yield* hostilePlatform
      const base = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url))
      )
      // Both forms, with no Effect to run first.
      const piped = base.pipe(TokenService.authenticated, HttpClient.filterStatusOk)
      const applied = TokenService.authenticated(base)
      const tokens = yield* Layer.build(
        TokenService.layer().pipe(Layer.provide(Layer.merge(fake.layer, TokenStore.layerMemory)))
      )
      const config = (appKeyHeader: string) =>
        PlatformConfig.layer({ baseUrl: server.url, appId, secret: Redacted.make("secret"), appKeyHeader })
      const first = yield* piped.get(devices).pipe(
        Effect.provide(config("app_key")),
        Effect.provide(tokens)
      )
      assert.strictEqual(first.status, 200)
      const second = yield* applied.get(devices).pipe(
        Effect.provide(config("x-app-key")),
        Effect.provide(tokens)
      )
      assert.strictEqual(second.status, 200)
      assert.strictEqual(server.requests[0]!.headers["app_key"], appId)
      assert.strictEqual(server.requests[1]!.headers["x-app-key"], appId)
      assert.deepStrictEqual(server.requests.map((request) => request.token), ["at-1", "at-1"])
      // The replay on 1010005 works the same way.
      revoke()
      const replayed = yield* piped.get(devices).pipe(
        Effect.provide(config("app_key")),
        Effect.provide(tokens)
      )
      assert.strictEqual(replayed.status, 200)
      assert.deepStrictEqual(server.requests.slice(2).map((request) => request.token), ["at-1", "at-2"])
      assert.strictEqual(fake.logins(), 1)
      assert.strictEqual(fake.refreshes(), 1)
    }).pipe(Effect.provide(live)))
})

describe("TokenService.layerAuthenticatedClient", () => {
  it.live("provides the authenticated HttpClient; a token error surfaces as a TransportError", () =>
    Effect.gen(function*() {
      const fake = FakeAuth.make()
      const server = yield* TestServer.make((request) => request.token === "at-1" ? ok : invalidToken)
      const layer = TokenService.layerAuthenticatedClient.pipe(
        Layer.provide(
          Layer.mergeAll(
            TestServer.layerClient,
            TokenService.layer().pipe(Layer.provide(Layer.merge(fake.layer, TokenStore.layerMemory))),
            PlatformConfig.layer({ baseUrl: server.url, appId, secret: Redacted.make("secret") })
          )
        )
      )
      const program = Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        return yield* client.get(server.url + devices)
      }).pipe(Effect.provide(layer))
      assert.strictEqual((yield* program).status, 200)
      fake.login = () => FakeAuth.fail(FakeAuth.invalidCredentials())
      const error = yield* Effect.flip(program)
      assert.isTrue(HttpClientError.isHttpClientError(error))
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual((error as HttpClientError.HttpClientError).reason._tag, "TransportError")
      assert.strictEqual((error.cause as { readonly _tag: string })._tag, "InvalidCredentials")
    }).pipe(Effect.provide(Logs.silent)))
})

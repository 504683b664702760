/**
 * End to end: `@iocm/core`'s `IocmAuth` against the simulator over real HTTPS with mutual TLS,
 * through `@effect/platform-node`'s `node:https` HttpClient trusting the test CA and presenting the test
 * client certificate. Login, refresh with rotation, the old access token refused by the business
 * endpoint after a new login, the old refresh token refused after use, and the platform's error
 * codes mapped onto core's tagged errors.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, layer } from "@effect/vitest"
import { IocmAuth, PlatformConfig } from "@iocm/core"
import { Effect, Layer, Option, Redacted } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Simulator from "../src/Simulator.js"

const frozenApp = { appId: "frozen-app", secret: "frozen-secret", frozen: true }

const SimulatorLive = Simulator.layer({ tls: { mutual: true }, apps: [frozenApp] })

/** An HttpClient that trusts the simulator's CA and presents its client certificate. */
const ClientLive = Layer.unwrap(
  Effect.map(
    Simulator.Simulator,
    (s) => NodeHttpClient.layerNodeHttpOptions({ ca: s.ca, cert: s.clientCert, key: s.clientKey, keepAlive: false })
  )
)

const AuthLive = IocmAuth.layer.pipe(
  Layer.provide(
    Layer.unwrap(
      Effect.map(
        Simulator.Simulator,
        (s) => PlatformConfig.layer({ baseUrl: s.baseUrl, appId: s.app.appId, secret: s.app.secret })
      )
    )
  )
)

const TestLive = AuthLive.pipe(
  Layer.provideMerge(ClientLive),
  Layer.provideMerge(SimulatorLive)
)

/** The device query through the same HttpClient, signed with `app_key` and the bearer token. */
const devices = (token: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const s = yield* Simulator.Simulator
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(`${s.baseUrl}/iocm/app/dm/v1.4.0/devices`, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
        HttpClientRequest.setHeader("app_key", s.app.appId),
        HttpClientRequest.bearerToken(token)
      )
    )
    return { status: response.status, body: yield* response.json }
  })

layer(TestLive, { excludeTestServices: true })("IocmAuth against the simulator (HTTPS, mutual TLS)", (it) => {
  it.effect("login, refresh with rotation, old access token refused after a new login, old refresh token refused", () =>
    Effect.gen(function*() {
      const auth = yield* IocmAuth.IocmAuth
      const sim = yield* Simulator.Simulator

      // Login: a full token set.
      const first = yield* auth.login
      assert.strictEqual(first.tokenType.toLowerCase(), "bearer")
      assert.strictEqual(first.expiresIn, 3600)
      assert.strictEqual(first.scope, "default")
      assert.isTrue(Option.isSome(first.refreshToken))
      assert.strictEqual((yield* devices(first.accessToken)).status, 200)

      // Refresh: new access and refresh tokens (rotation); the previous access token is gone.
      const firstRefresh = Option.getOrThrow(first.refreshToken)
      const second = yield* auth.refresh(firstRefresh)
      const secondRefresh = Option.getOrThrow(second.refreshToken)
      assert.notStrictEqual(Redacted.value(second.accessToken), Redacted.value(first.accessToken))
      assert.notStrictEqual(Redacted.value(secondRefresh), Redacted.value(firstRefresh))
      assert.strictEqual((yield* devices(second.accessToken)).status, 200)

      // The used refresh token is refused: RefreshTokenRejected (401/100006).
      const reused = yield* Effect.flip(auth.refresh(firstRefresh))
      assert.strictEqual(reused._tag, "RefreshTokenRejected")
      assert.strictEqual(reused.code, "100006")
      assert.strictEqual(reused.httpStatus, 401)

      // A new login invalidates the previous access token: the business endpoint says 403/1010005.
      const third = yield* auth.login
      const stale = yield* devices(second.accessToken)
      assert.deepStrictEqual(stale, {
        status: 403,
        body: { error_code: "1010005", error_desc: "Invalid access token or appId." }
      })
      assert.strictEqual((yield* devices(third.accessToken)).status, 200)

      // ... and the refresh token from before that login is no longer the app's.
      assert.strictEqual((yield* Effect.flip(auth.refresh(secondRefresh)))._tag, "RefreshTokenRejected")
      const fourth = yield* auth.refresh(Option.getOrThrow(third.refreshToken))
      assert.strictEqual((yield* devices(fourth.accessToken)).status, 200)

      const counters = yield* sim.counters
      assert.strictEqual(counters.logins, 2)
      assert.strictEqual(counters.refreshes, 2)
      assert.strictEqual(counters.requests.refresh["100006"], 2)
    }))

  it.effect("injected faults reach core as its tagged errors", () =>
    Effect.gen(function*() {
      const auth = yield* IocmAuth.IocmAuth
      const sim = yield* Simulator.Simulator
      yield* sim.setFaults("login", { errorRate: 1, times: 1 })
      const internal = yield* Effect.flip(auth.login)
      assert.strictEqual(internal._tag, "PlatformInternalError")
      assert.isTrue(internal.retryable)
      yield* sim.setFaults("login", { html: 1, times: 1 })
      assert.strictEqual((yield* Effect.flip(auth.login))._tag, "MalformedResponse")
      yield* sim.setFaults("login", { truncate: 1, times: 1 })
      assert.strictEqual((yield* Effect.flip(auth.login))._tag, "MalformedResponse")
      yield* sim.setFaults("login", { reset: 1, times: 1 })
      assert.strictEqual((yield* Effect.flip(auth.login))._tag, "TransportError")
      // The faults were single-shot: the next login works.
      assert.strictEqual((yield* auth.login).expiresIn, 3600)
    }))

  /** An `IocmAuth` for other credentials, over the same simulator and client. */
  const authAs = (appId: string, secret: string) =>
    Effect.flatMap(
      Simulator.Simulator,
      (s) => IocmAuth.make.pipe(Effect.provide(PlatformConfig.layer({ baseUrl: s.baseUrl, appId, secret })))
    )

  it.effect("wrong secret: InvalidCredentials (401/100208)", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const auth = yield* authAs(sim.app.appId, "not-the-secret")
      const error = yield* Effect.flip(auth.login)
      assert.strictEqual(error._tag, "InvalidCredentials")
      assert.strictEqual(error.code, "100208")
      assert.strictEqual(error.httpStatus, 401)
    }))

  it.effect("frozen app: AccountFrozen (400/100449)", () =>
    Effect.gen(function*() {
      const auth = yield* authAs(frozenApp.appId, frozenApp.secret)
      const error = yield* Effect.flip(auth.login)
      assert.strictEqual(error._tag, "AccountFrozen")
      assert.strictEqual(error.code, "100449")
      assert.strictEqual(error.httpStatus, 400)
    }))
})

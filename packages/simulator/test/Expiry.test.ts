/**
 * Token expiry over the wire, with the simulator's clock under TestClock: the server reads time
 * from the `Clock` it was built with, so moving the TestClock expires tokens without sleeping.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted } from "effect"
import * as TestClock from "effect/testing/TestClock"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }

describe("token expiry under TestClock", () => {
  it.effect("the access token is refused (403/1010005) once its lifetime has passed", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const issued = W.tokens(yield* W.login(s, demo))
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual((yield* W.devices(s, { appKey: demo.appId, token: issued.accessToken })).status, 200)
      yield* TestClock.adjust("1 minute")
      const expired = yield* W.devices(s, { appKey: demo.appId, token: issued.accessToken })
      assert.deepStrictEqual(W.errorOf(expired), {
        status: 403,
        body: { error_code: "1010005", error_desc: "Invalid access token or appId." }
      })
      assert.isFalse((yield* s.counters).tokens[demo.appId]!.accessTokenValid)
    }))

  it.effect("an expired access token is refused (403/1010005) on every business path, known or not", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const deviceId = yield* s.seedDevice({ nodeId: "lamp-1" })
      const credentials = yield* W.session(s, demo)
      const paths = [
        "/iocm/app/dm/v1.1.0/devices",
        W.devicePath(deviceId),
        W.commandsPath,
        W.subscriptionsPath,
        "/iocm/app/nothing/here"
      ]
      for (const path of paths) {
        assert.oneOf((yield* W.call(s, credentials, { path })).status, [200, 404], path)
      }
      yield* TestClock.adjust("1 hour")
      for (const path of paths) {
        assert.deepStrictEqual(W.errorOf(yield* W.call(s, credentials, { path })), {
          status: 403,
          body: { error_code: "1010005", error_desc: "Invalid access token or appId." }
        }, path)
      }
      const command = { deviceId, command: { serviceId: "Light", method: "SWITCH" } }
      assert.strictEqual((yield* W.call(s, credentials, { path: W.commandsPath, body: command })).status, 403)
      assert.deepStrictEqual(yield* s.commands(), [])
    }))

  it.effect("the refresh token is refused (401/100006) after 30 days", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const issued = W.tokens(yield* W.login(s, demo))
      yield* TestClock.adjust("30 days")
      const res = yield* W.refresh(s, { ...demo, refreshToken: issued.refreshToken })
      assert.deepStrictEqual(W.errorOf(res), {
        status: 401,
        body: { error_code: "100006", error_desc: "Refresh access token failed." }
      })
      assert.deepStrictEqual((yield* s.counters).tokens, {})
    }))

  it.effect("a configured refresh lifetime (24 hours) is honoured", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ refreshTokenLifetime: "24 hours" })
      const issued = W.tokens(yield* W.login(s, demo))
      yield* TestClock.adjust("23 hours")
      const renewed = W.tokens(yield* W.refresh(s, { ...demo, refreshToken: issued.refreshToken }))
      yield* TestClock.adjust("24 hours")
      assert.strictEqual((yield* W.refresh(s, { ...demo, refreshToken: renewed.refreshToken })).status, 401)
    }))

  it.effect("flow control windows follow the clock", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ rateLimit: { limit: 2, window: "10 seconds" } })
      const { accessToken } = W.tokens(yield* W.login(s, demo))
      const call = Effect.map(W.devices(s, { appKey: demo.appId, token: accessToken }), (r) => r.status)
      assert.deepStrictEqual([yield* call, yield* call, yield* call], [200, 200, 403])
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* call, 200)
    }))
})

describe("layerConfig", () => {
  it.effect("reads the main app from IOCM_APP_ID / IOCM_SECRET, with the demo app as default", () =>
    Effect.gen(function*() {
      const status = yield* Effect.gen(function*() {
        const s = yield* Simulator.Simulator
        assert.strictEqual(s.app.appId, "env-app")
        assert.strictEqual(Redacted.value(s.app.secret), "env-secret")
        return (yield* W.login(s, { appId: "env-app", secret: "env-secret" })).status
      }).pipe(
        Effect.provide(Simulator.layerConfig()),
        Effect.provide(
          ConfigProvider.layer(ConfigProvider.fromEnv({ env: { IOCM_APP_ID: "env-app", IOCM_SECRET: "env-secret" } }))
        )
      )
      assert.strictEqual(status, 200)
      const defaults = yield* Simulator.Simulator.pipe(
        Effect.provide(Simulator.layerConfig()),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))
      )
      assert.strictEqual(defaults.app.appId, Simulator.demoApp.appId)
    }))
})

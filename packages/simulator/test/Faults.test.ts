/**
 * Fault injection, each kind over the wire with Node's `https`: injected 500/50252, latency,
 * connection reset, truncated JSON, a proxy's HTML page; per endpoint, limited by `times`, set at
 * start or at run time, random decisions from Effect's `Random`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Random } from "effect"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }

describe("faults", () => {
  it.live("errorRate 1: 500/50252 Internal server error, and no token state changes", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      const before = W.tokens(yield* W.login(s, demo))
      yield* s.setFaults("login", { errorRate: 1 })
      const res = yield* W.login(s, demo)
      assert.deepStrictEqual(W.errorOf(res), {
        status: 500,
        body: { error_code: "50252", error_desc: "Internal server error." }
      })
      // The faulted login never reached the platform: the previous token is still the valid one.
      assert.strictEqual((yield* W.devices(s, { appKey: demo.appId, token: before.accessToken })).status, 200)
      assert.deepStrictEqual((yield* s.counters).requests.login, { ok: 1, "50252": 1 })
    }))

  it.live("latency delays the answer", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ faults: { login: { latency: "300 millis" } } })
      const start = yield* Clock.currentTimeMillis
      assert.strictEqual((yield* W.login(s, demo)).status, 200)
      const elapsed = (yield* Clock.currentTimeMillis) - start
      assert.isAtLeast(elapsed, 290)
      // Other endpoints are not delayed.
      const t0 = yield* Clock.currentTimeMillis
      yield* W.send(s, { path: W.devicesPath })
      assert.isBelow((yield* Clock.currentTimeMillis) - t0, 250)
    }))

  it.live("reset: the connection is destroyed without an answer", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      yield* s.setFaults("refresh", { reset: true })
      const error = yield* Effect.flip(W.refresh(s, { ...demo, refreshToken: "x" }))
      assert.strictEqual(error.code, "ECONNRESET")
      assert.deepStrictEqual((yield* s.counters).requests.refresh, { reset: 1 })
      // The server is still fine afterwards.
      assert.strictEqual((yield* W.login(s, demo)).status, 200)
    }))

  it.live("truncate: 200 with a JSON body cut in the middle", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      yield* s.setFaults("login", { truncate: 1 })
      const res = yield* W.login(s, demo)
      assert.strictEqual(res.status, 200)
      assert.match(String(res.headers["content-type"]), /^application\/json/)
      assert.match(res.text, /^\{"accessToken":"/)
      assert.throws(() => JSON.parse(res.text))
    }))

  it.live("html: 502 with a proxy's HTML error page", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      yield* s.setFaults("devices", { html: true })
      const res = yield* W.devices(s, { appKey: demo.appId, token: "t" })
      assert.strictEqual(res.status, 502)
      assert.match(String(res.headers["content-type"]), /^text\/html/)
      assert.include(res.text, "<title>502 Bad Gateway</title>")
    }))

  it.live("per endpoint, limited by times, replaced at run time, cleared", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ faults: { refresh: { errorRate: 1, times: 2 } } })
      const issued = W.tokens(yield* W.login(s, demo))
      const refresh = Effect.map(W.refresh(s, { ...demo, refreshToken: issued.refreshToken }), (r) => r.status)
      assert.deepStrictEqual([yield* refresh, yield* refresh, yield* refresh], [500, 500, 200])
      yield* s.setFaults("all", { html: 1 })
      assert.strictEqual((yield* W.login(s, demo)).status, 502)
      assert.strictEqual((yield* W.devices(s, {})).status, 502)
      yield* s.setFaults("login", {})
      assert.strictEqual((yield* W.login(s, demo)).status, 200)
      yield* s.clearFaults
      assert.strictEqual((yield* W.devices(s, {})).status, 401)
    }))

  it.live("a share of requests, decided by Effect's Random (seeded: reproducible)", () =>
    Effect.gen(function*() {
      const run = () =>
        Effect.gen(function*() {
          const s = yield* Simulator.make({ faults: { login: { errorRate: 0.5 } } })
          return yield* Effect.forEach(Array.from({ length: 40 }), () => Effect.map(W.login(s, demo), (r) => r.status))
        }).pipe(Effect.scoped, Random.withSeed("iocm-seed"))
      const first = yield* run()
      const second = yield* run()
      assert.deepStrictEqual(first, second)
      const failures = first.filter((x) => x === 500).length
      assert.isAbove(failures, 5)
      assert.isBelow(failures, 35)
      assert.isTrue(first.every((x) => x === 200 || x === 500))
    }))

  it.live("rates add up in one draw: reset, html, truncate, error", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      // html 1 wins over errorRate 1: the first matching share in the order reset, html, truncate, error.
      yield* s.setFaults("login", { html: 1, errorRate: 1 })
      assert.strictEqual((yield* W.login(s, demo)).status, 502)
    }))
})

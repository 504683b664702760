/**
 * `FlowControl`: on the test clock over a scripted transport, then against `@iocm/simulator`'s
 * flow control over HTTPS with mutual TLS, on the real clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { PlatformConfig } from "@iocm/core"
import { Simulator } from "@iocm/simulator"
import type { Duration } from "effect"
import { Effect, Fiber, Layer, Stream } from "effect"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import * as TestClock from "effect/testing/TestClock"
import * as FlowControl from "../src/FlowControl.js"
import * as TokenService from "../src/TokenService.js"
import { devices, stack } from "./utils/SimulatorStack.js"

const platform = PlatformConfig.layer({ baseUrl: "https://127.0.0.1:8743", appId: "app", secret: "secret" }).pipe(
  Layer.orDie
)

/** The platform's error body for `code`, as a 403. */
const refused = (code: string) =>
  new Response(JSON.stringify({ error_code: code, error_desc: "refused" }), {
    status: 403,
    headers: { "content-type": "application/json" }
  })

/** A transport answering the `n`-th call (from 1) with `answer(n)`, recording when each was sent. */
const scripted = (answer: (n: number) => Response = () => new Response("{}")) => {
  const sent: Array<number> = []
  const client = HttpClient.make((request) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        sent.push(clock.currentTimeMillisUnsafe())
        return HttpClientResponse.fromWeb(request, answer(sent.length))
      })
    )
  )
  return { sent, client: FlowControl.limited(client) }
}

/** The budget of the tests on the test clock: 2 calls per 10 s, and 1 s of margin. */
const budget = FlowControl.layerMemory({ limit: 2, window: "10 seconds", margin: "1 second" }).pipe(
  Layer.provide(platform)
)

describe("FlowControl on the test clock", () => {
  it.effect("waits for the next window instead of sending a call past the budget", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted()
      const calls = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 5 }), () => client.get("https://platform/devices"), {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust("0 millis")
      assert.strictEqual(sent.length, 2)
      yield* TestClock.adjust("10999 millis")
      assert.strictEqual(sent.length, 2)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(sent.length, 4)
      yield* TestClock.adjust("11 seconds")
      const responses = yield* Fiber.join(calls)
      assert.deepStrictEqual(responses.map((response) => response.status), [200, 200, 200, 200, 200])
      assert.deepStrictEqual(sent, [0, 0, 11_000, 11_000, 22_000])
    }).pipe(Effect.provide(budget)))

  it.effect("the budget is a sliding window: calls made slowly count against a burst that follows them", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted()
      // One call at 0 and one at 6 s: a window opened at 5 s (as a platform's may be) then holds one.
      yield* client.get("https://platform/devices")
      yield* TestClock.adjust("6 seconds")
      yield* client.get("https://platform/devices")
      const burst = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 3 }), () => client.get("https://platform/devices"), {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(burst)
      // Never more than 2 calls in any 11 s (the window and the margin), whatever it is aligned to.
      assert.deepStrictEqual(sent, [0, 6_000, 11_000, 17_000, 22_000])
    }).pipe(Effect.provide(budget)))

  it.effect("a 1010004 is waited out for one window and the request replayed once", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted((n) => n === 1 ? refused("1010004") : new Response("{}"))
      const call = yield* Effect.forkChild(client.get("https://platform/devices"))
      yield* TestClock.adjust("10999 millis")
      assert.strictEqual(sent.length, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* Fiber.join(call)).status, 200)
      assert.deepStrictEqual(sent, [0, 11_000])
    }).pipe(Effect.provide(budget)))

  it.effect("the replay is made once: a second 1010004 is returned, its body readable", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted(() => refused("1010004"))
      const call = yield* Effect.forkChild(client.get("https://platform/devices"))
      yield* TestClock.adjust("11 seconds")
      const response = yield* Fiber.join(call)
      assert.strictEqual(response.status, 403)
      assert.include(yield* response.text, "1010004")
      assert.strictEqual(sent.length, 2)
    }).pipe(Effect.provide(budget)))

  it.effect("a request whose body is a stream is not replayed", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted(() => refused("1010004"))
      const request = HttpClientRequest.post("https://platform/devices").pipe(
        HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("{}")))
      )
      const response = yield* client.execute(request)
      assert.strictEqual(response.status, 403)
      assert.include(yield* response.text, "1010004")
      assert.strictEqual(sent.length, 1)
    }).pipe(Effect.provide(budget)))

  it.effect("another 403 is handed on untouched, its body readable, with no wait", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted(() => refused("1010005"))
      const response = yield* client.get("https://platform/devices")
      assert.strictEqual(response.status, 403)
      assert.include(yield* response.text, "1010005")
      assert.deepStrictEqual(sent, [0])
    }).pipe(Effect.provide(budget)))
})

/** The simulator with `platformLimit` calls per second, and the client's budget of 5 per second. */
const simulated = (platformLimit: number) =>
  FlowControl.layerMemory({ limit: 5, window: "1 second", margin: "250 millis" }).pipe(
    Layer.provideMerge(stack({ rateLimit: { limit: platformLimit, window: "1 second" } }))
  )

/** The limited, authenticated client to the simulator's business API. */
const limitedClient = Effect.gen(function*() {
  const config = yield* PlatformConfig.PlatformConfig
  return (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    FlowControl.limited,
    TokenService.authenticated
  )
})

/** `count` concurrent calls to the device list; their statuses. */
const callDevices = (count: number) =>
  Effect.flatMap(limitedClient, (client) =>
    Effect.forEach(
      Array.from({ length: count }),
      () => Effect.map(client.get(devices), (response) => response.status),
      { concurrency: "unbounded" }
    ))

describe("FlowControl options", () => {
  it.effect("a limit, window or margin that is not valid fails the layer with InvalidFlowControl", () =>
    Effect.gen(function*() {
      const refused = (options: FlowControl.Options) =>
        Effect.flip(Layer.build(FlowControl.layerMemory(options).pipe(Layer.provide(platform))))
      assert.strictEqual((yield* refused({ limit: 0 })).option, "limit")
      assert.strictEqual((yield* refused({ limit: 2.5 })).option, "limit")
      assert.strictEqual((yield* refused({ window: 0 })).option, "window")
      assert.strictEqual((yield* refused({ window: "soon" as Duration.Input })).option, "window")
      const margin = yield* refused({ margin: -1 })
      assert.strictEqual(margin._tag, "InvalidFlowControl")
      assert.include(margin.message, "margin")
    }))
})

describe("FlowControl against the simulator", () => {
  it.live("three budgets' worth of calls: all succeed, none is throttled, spaced by the window", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const started = Date.now()
      const statuses = yield* callDevices(15)
      const elapsed = Date.now() - started
      assert.deepStrictEqual(statuses, Array.from({ length: 15 }, () => 200))
      const counters = yield* sim.counters
      assert.deepStrictEqual(counters.requests.devices, { ok: 15 })
      // The third batch of five waits for two windows (and margins).
      assert.isAtLeast(elapsed, 2_500)
    }).pipe(Effect.provide(simulated(5))))

  it.live("a 1010004 that still arrives is waited out and replayed once, without a token replay", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const statuses = yield* callDevices(5)
      assert.deepStrictEqual(statuses, Array.from({ length: 5 }, () => 200))
      const counters = yield* sim.counters
      // The platform takes 3 per second: two calls refused, then replayed in its next window.
      assert.deepStrictEqual(counters.requests.devices, { ok: 5, "1010004": 2 })
      assert.strictEqual(counters.logins, 1)
    }).pipe(Effect.provide(simulated(3))))
})

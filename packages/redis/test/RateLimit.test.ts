/**
 * `RateLimit`: two processes' flow control sharing one budget per appId in a real redis-server, on
 * the real clock (Redis counts on its own clock).
 */
import { assert, describe, it } from "@effect/vitest"
import * as FlowControl from "@iocm/cache/FlowControl"
import { RateLimit } from "@iocm/redis"
import { Redis as RedisServer } from "@iocm/testing"
import { Context, Effect, Layer } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { randomUUID } from "node:crypto"
import * as Stores from "./utils/Stores.js"

const limit = 4
const windowMillis = 1_000

/** One process's budget of `app`: its own Redis connection, the shared count under `keyPrefix`. */
const budget = (url: string, keyPrefix: string, app: string = Stores.appId) =>
  Effect.map(
    Layer.build(
      RateLimit.layerRedis({ url, keyPrefix, limit, window: windowMillis, margin: "100 millis" }).pipe(
        Layer.provide(Stores.platform(app))
      )
    ),
    Context.get(FlowControl.FlowControl)
  )

/** A transport recording when each call reached it. */
const recording = () => {
  const sent: Array<number> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      sent.push(Date.now())
      return HttpClientResponse.fromWeb(request, new Response("{}"))
    })
  )
  return { sent, client }
}

/** `count` concurrent calls through `client` limited by `service`. */
const calls = (client: HttpClient.HttpClient, service: FlowControl.Service, count: number) =>
  Effect.forEach(
    Array.from({ length: count }),
    () => FlowControl.limited(client).get("https://platform/devices"),
    { concurrency: "unbounded" }
  ).pipe(Effect.provideService(FlowControl.FlowControl, service))

/** Whether no window of `windowMillis` holds more than `limit` of the (sorted) times. */
const withinBudget = (sent: ReadonlyArray<number>): boolean =>
  sent.every((time, i) => i + limit >= sent.length || sent[i + limit]! - time >= windowMillis)

describe.runIf(RedisServer.serverAvailable())("two processes sharing the Redis limiter", () => {
  it.live("stay within one budget together: three budgets' worth of calls are spread over three windows", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const keyPrefix = `test:flow:${randomUUID()}:`
      const first = yield* budget(server.url, keyPrefix)
      const second = yield* budget(server.url, keyPrefix)
      const { client, sent } = recording()
      const started = Date.now()
      yield* Effect.all([calls(client, first, 6), calls(client, second, 6)], { concurrency: "unbounded" })
      assert.strictEqual(sent.length, 12)
      assert.isTrue(withinBudget([...sent].sort((a, b) => a - b)), `sent at ${sent.map((t) => t - started)}`)
      assert.isAtLeast(Date.now() - started, 2 * windowMillis)
    }))

  it.live("another appId has a budget of its own", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.server
      const keyPrefix = `test:flow:${randomUUID()}:`
      const { client, sent } = recording()
      const started = Date.now()
      yield* calls(client, yield* budget(server.url, keyPrefix), limit)
      yield* calls(client, yield* budget(server.url, keyPrefix, "another-app"), limit)
      assert.strictEqual(sent.length, 2 * limit)
      assert.isBelow(Date.now() - started, windowMillis)
    }))
})

/**
 * The soak run of `TokenService` against `@iocm/simulator` over HTTPS with mutual TLS: two minutes
 * of wall clock with 5-second tokens. Not part of `pnpm test`; `pnpm test:soak` runs it (and
 * `.ci/run`, after the suite).
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import { Effect, Fiber, Stream } from "effect"
import type * as TokenEvent from "../../src/TokenEvent.js"
import * as TokenService from "../../src/TokenService.js"
import { client, devices, stack } from "../utils/SimulatorStack.js"

describe("TokenService against the simulator, on the wall clock", () => {
  it.live(
    "5 s tokens for 2 minutes of wall clock: every business call succeeds, refreshes follow the schedule",
    () =>
      Effect.gen(function*() {
        const sim = yield* Simulator.Simulator
        const service = yield* TokenService.TokenService
        const api = yield* client
        const events: Array<TokenEvent.TokenEvent> = []
        const listener = yield* Effect.forkChild(
          Stream.runForEach(service.changes, (event) => Effect.sync(() => events.push(event)))
        )
        yield* Effect.sleep("50 millis")
        const started = Date.now()
        const statuses = new Map<number, number>()
        // Three callers, each making a business call every 100 ms, for two minutes.
        const caller = Effect.gen(function*() {
          while (Date.now() - started < 120_000) {
            const status = (yield* api.get(devices)).status
            statuses.set(status, (statuses.get(status) ?? 0) + 1)
            yield* Effect.sleep("100 millis")
          }
        })
        yield* Effect.all([caller, caller, caller], { concurrency: "unbounded", discard: true })
        const elapsed = Date.now() - started
        yield* Fiber.interrupt(listener)
        const counters = yield* sim.counters

        // Every business call succeeded (one in flight while a refresh replaced its token was
        // replayed once with the new token, and then succeeded).
        assert.deepStrictEqual([...statuses.keys()], [200])
        assert.isAtLeast(statuses.get(200)!, 600)
        assert.strictEqual(counters.requests.devices["ok"], statuses.get(200))

        // One login, then only refreshes, none failed.
        assert.deepStrictEqual(counters.requests.login, { ok: 1 })
        assert.deepStrictEqual(counters.requests.refresh, { ok: counters.refreshes })
        const obtained = events.filter((event) => event._tag === "LoggedIn" || event._tag === "Refreshed")
        assert.deepStrictEqual(obtained.map((event) => event._tag), [
          "LoggedIn",
          ...Array.from({ length: counters.refreshes }, () => "Refreshed")
        ])
        assert.strictEqual(events.length, obtained.length)

        // Each refresh was sent when the previous token scheduled it: 5 s tokens shrink the windows
        // to 1.25–2.5 s after issue (lead ≤ L/2, jitter ≤ L/4).
        for (let i = 1; i < obtained.length; i++) {
          const previous = obtained[i - 1] as TokenEvent.TokenEvent & {
            readonly refreshAt: number
            readonly expiresAt: number
          }
          const next = obtained[i] as TokenEvent.TokenEvent & { readonly expiresAt: number }
          const previousIssuedAt = previous.expiresAt - 5000
          const sentAt = next.expiresAt - 5000
          assert.isTrue(
            previous.refreshAt - previousIssuedAt >= 1250 && previous.refreshAt - previousIssuedAt <= 2500,
            `refresh ${i} scheduled ${previous.refreshAt - previousIssuedAt} ms after issue`
          )
          assert.isTrue(
            sentAt >= previous.refreshAt && sentAt - previous.refreshAt < 1000,
            `refresh ${i} sent ${sentAt - previous.refreshAt} ms after its time`
          )
        }
        assert.isTrue(
          counters.refreshes >= Math.floor(elapsed / 2_600) && counters.refreshes <= Math.ceil(elapsed / 1_250),
          `${counters.refreshes} refreshes in ${elapsed} ms`
        )
      }).pipe(Effect.provide(stack({ tokenLifetime: "5 seconds" }))),
    { timeout: 180_000 }
  )
})

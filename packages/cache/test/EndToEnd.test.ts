/**
 * `TokenService` and the authenticated client against `@iocm/simulator` over HTTPS with mutual
 * TLS, on the real clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { Simulator } from "@iocm/simulator"
import { ConfigProvider, Effect, Fiber, Layer, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as path from "node:path"
import type * as RefreshPolicy from "../src/RefreshPolicy.js"
import type * as TokenEvent from "../src/TokenEvent.js"
import * as TokenService from "../src/TokenService.js"
import * as TokenStore from "../src/TokenStore.js"
import * as Readme from "./examples/Readme.js"

/** The simulator, and on top of it the whole client stack: HTTPS with mTLS, IocmAuth, TokenService. */
const stack = (options: Simulator.SimulatorOptions, policy?: RefreshPolicy.Options) =>
  Layer.unwrap(Effect.gen(function*() {
    const sim = yield* Simulator.Simulator
    const http = IocmHttp.layer({ ca: sim.ca, cert: sim.clientCert, key: sim.clientKey })
    const config = PlatformConfig.layer({ baseUrl: sim.baseUrl, appId: sim.app.appId, secret: sim.app.secret })
    const auth = IocmAuth.layer.pipe(Layer.provide(Layer.merge(http, config)))
    const tokens = TokenService.layer(policy).pipe(Layer.provide(Layer.merge(auth, TokenStore.layerMemory)))
    return Layer.mergeAll(tokens, config, http)
  })).pipe(
    Layer.provideMerge(
      Simulator.layer({ tls: { mutual: true }, rateLimit: { limit: 1_000_000 }, ...options })
    )
  )

/** The authenticated client to the simulator's business API. */
const client = Effect.gen(function*() {
  const config = yield* PlatformConfig.PlatformConfig
  return (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated
  )
})

const devices = `${Wire.devicesPath}?pageNo=0&pageSize=10`

describe("TokenService against the simulator", () => {
  it.live("logs in, signs business calls, and recovers from a revoked token with one login and a replay", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const api = yield* client
      assert.strictEqual((yield* api.get(devices)).status, 200)
      assert.strictEqual((yield* api.get(devices)).status, 200)
      // The platform drops both tokens (as if the app logged in elsewhere): 1010005, then the
      // refresh token is refused (100006), so one login, and the call is replayed.
      yield* sim.revokeTokens()
      const response = yield* api.get(devices)
      assert.strictEqual(response.status, 200)
      const counters = yield* sim.counters
      assert.strictEqual(counters.logins, 2)
      assert.strictEqual(counters.refreshes, 0)
      assert.strictEqual(counters.requests.refresh["100006"], 1)
      assert.strictEqual(counters.requests.devices["1010005"], 1)
      assert.strictEqual(counters.requests.devices["ok"], 3)
    }).pipe(Effect.provide(stack({}))))

  it.live("serves the valid token through injected refresh failures and retries with back-off", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const service = yield* TokenService.TokenService
      const api = yield* client
      const first = yield* service.get
      yield* sim.setFaults("refresh", { errorRate: 1, times: 2 })
      const statuses: Array<number> = []
      // 5 s tokens: the refresh is due 1.25–2.5 s in; two attempts fail, the third succeeds.
      for (let i = 0; i < 70; i++) {
        statuses.push((yield* api.get(devices)).status)
        yield* Effect.sleep("100 millis")
      }
      assert.isTrue(statuses.every((status) => status === 200))
      const counters = yield* sim.counters
      assert.strictEqual(counters.requests.refresh["50252"], 2)
      assert.isAtLeast(counters.refreshes, 1)
      assert.strictEqual(counters.logins, 1)
      assert.isTrue((yield* service.get).generation > first.generation)
    }).pipe(Effect.provide(stack({ tokenLifetime: "5 seconds" }))))

  it.live("a frozen app is terminal until refresh is called after it is unfrozen", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const service = yield* TokenService.TokenService
      yield* service.get
      yield* sim.freezeApp(sim.app.appId)
      const error = yield* Effect.flip(service.refresh)
      assert.strictEqual(error._tag, "AccountFrozen")
      const before = (yield* sim.counters).requests
      assert.strictEqual((yield* Effect.flip(service.get))._tag, "AccountFrozen")
      yield* Effect.sleep("1 second")
      assert.deepStrictEqual((yield* sim.counters).requests, before)
      yield* sim.unfreezeApp(sim.app.appId)
      const token = yield* service.refresh
      assert.strictEqual(yield* service.get, token)
    }).pipe(Effect.provide(stack({}))))

  it.live("the README program runs as written, configured from IOCM_* variables", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const fixture = (name: string) => path.join(Simulator.fixturesDirectory, name)
      const provider = ConfigProvider.fromEnv({
        env: {
          IOCM_BASE_URL: sim.baseUrl,
          IOCM_APP_ID: sim.app.appId,
          IOCM_SECRET: Simulator.demoApp.secret,
          IOCM_CA_FILE: fixture("ca.pem"),
          IOCM_CERT_FILE: fixture("client.pem"),
          IOCM_KEY_FILE: fixture("client-key.pem")
        }
      })
      const body = yield* Effect.andThen(Readme.whoAmI, Readme.listDevices).pipe(
        Effect.provide(Readme.MainLive),
        Effect.provideService(ConfigProvider.ConfigProvider, provider)
      )
      assert.deepStrictEqual(body, { totalCount: 0, pageNo: 0, pageSize: 10, devices: [] })
    }).pipe(Effect.provide(Simulator.layer({ tls: { mutual: true } }))))

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

/**
 * `TokenService` and the authenticated client against `@iocm/simulator` over HTTPS with mutual
 * TLS, on the real clock. The two-minute run is `soak/Soak.soak.ts` (`pnpm test:soak`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import * as Logs from "@iocm/testing/Logs"
import { ConfigProvider, Effect } from "effect"
import * as path from "node:path"
import * as TokenService from "../src/TokenService.js"
import * as Readme from "./examples/Readme.js"
import { client, devices, stack } from "./utils/SimulatorStack.js"

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

  it.live("a frozen app is terminal until refresh is called after it is unfrozen; the valid token is still served", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const service = yield* TokenService.TokenService
      const token = yield* service.get
      yield* sim.freezeApp(sim.app.appId)
      const error = yield* Effect.flip(service.refresh)
      assert.strictEqual(error._tag, "AccountFrozen")
      const before = (yield* sim.counters).requests
      // Static stability: the token obtained before the freeze is good until it expires.
      assert.strictEqual(yield* service.get, token)
      yield* Effect.sleep("1 second")
      assert.deepStrictEqual((yield* sim.counters).requests, before)
      yield* sim.unfreezeApp(sim.app.appId)
      const fresh = yield* service.refresh
      assert.strictEqual(yield* service.get, fresh)
      assert.isAbove(fresh.generation, token.generation)
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
    }).pipe(Effect.provide(Simulator.layer({ tls: { mutual: true } })), Effect.provide(Logs.silent)))
})

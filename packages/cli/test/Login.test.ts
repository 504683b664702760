/**
 * `iocm login` and `iocm refresh`, the built bin run as a process against the simulator: the raw
 * calls, their tokens masked unless `--show-tokens`, the warning on stderr, and their failures.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import { Effect, Redacted } from "effect"
import { iocm, simulatorEnv } from "./utils/iocm.js"

interface TokenSetJson {
  readonly accessToken: string
  readonly refreshToken: string | null
  readonly tokenType: string
  readonly scope: string
  readonly expiresIn: number
  readonly expiresAt: string
  readonly refreshExpiresAt: string | null
}

/** The simulator's current tokens of its main app. */
const current = (simulator: Simulator.Simulator.Service) =>
  Effect.map(simulator.counters, (counters) => {
    const snapshot = counters.tokens[simulator.app.appId]!
    return { accessToken: Redacted.value(snapshot.accessToken), refreshToken: Redacted.value(snapshot.refreshToken) }
  })

describe("iocm login and iocm refresh", () => {
  it.live("login: every field, the tokens masked; --show-tokens --json gives them; the warning on stderr", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make()
      const env = simulatorEnv(simulator)
      const masked = yield* iocm(["login"], env)
      assert.strictEqual(masked.code, 0, masked.stderr)
      const tokens = yield* current(simulator)
      assert.match(masked.stdout, /^accessToken\s+<masked>\nrefreshToken\s+<masked>\ntokenType\s+bearer\n/)
      assert.match(masked.stdout, /expiresIn\s+3600\n/)
      assert.include(masked.stdout, "--show-tokens prints them")
      assert.notInclude(masked.stdout + masked.stderr, tokens.accessToken)
      assert.notInclude(masked.stdout + masked.stderr, tokens.refreshToken)
      assert.match(masked.stderr, /^iocm login: logging in as iocm-demo-app: this invalidates/)
      const maskedJson = JSON.parse((yield* iocm(["login", "--json"], env)).stdout) as TokenSetJson
      assert.strictEqual(maskedJson.accessToken, "<masked>")
      assert.strictEqual(maskedJson.refreshToken, "<masked>")
      const shown = yield* iocm(["login", "--json", "--show-tokens"], env)
      const body = JSON.parse(shown.stdout) as TokenSetJson
      assert.deepStrictEqual(
        { accessToken: body.accessToken, refreshToken: body.refreshToken },
        yield* current(simulator)
      )
      assert.strictEqual(body.expiresIn, 3600)
      assert.notInclude(shown.stdout + shown.stderr, Redacted.value(simulator.app.secret))
      assert.strictEqual((yield* simulator.counters).logins, 3)
    }).pipe(Effect.scoped))

  it.live("refresh: with IOCM_REFRESH_TOKEN, once; the token used up, unset or wrong: exit 4 and 3", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make()
      const env = simulatorEnv(simulator)
      const login = JSON.parse((yield* iocm(["login", "--json", "--show-tokens"], env)).stdout) as TokenSetJson
      const withToken = { ...env, IOCM_REFRESH_TOKEN: login.refreshToken! }
      const refreshed = yield* iocm(["refresh", "--json", "--show-tokens"], withToken)
      assert.strictEqual(refreshed.code, 0, refreshed.stderr)
      assert.match(refreshed.stderr, /^iocm refresh: refreshing the token as iocm-demo-app: this invalidates/)
      const body = JSON.parse(refreshed.stdout) as TokenSetJson
      assert.deepStrictEqual(
        { accessToken: body.accessToken, refreshToken: body.refreshToken },
        yield* current(simulator)
      )
      assert.notStrictEqual(body.refreshToken, login.refreshToken)
      assert.strictEqual((yield* simulator.counters).refreshes, 1)
      const [usedUp, unset] = yield* Effect.all([iocm(["refresh"], withToken), iocm(["refresh"], env)])
      assert.strictEqual(usedUp.code, 4, usedUp.stderr)
      assert.strictEqual(usedUp.stdout, "")
      assert.match(usedUp.stderr, /RefreshTokenRejected \(100006, HTTP 401\)/)
      assert.notInclude(usedUp.stderr, login.refreshToken!)
      assert.strictEqual(unset.code, 3, unset.stderr)
      assert.strictEqual(unset.stdout, "")
      assert.strictEqual(unset.stderr, "iocm: IOCM_REFRESH_TOKEN is not set\n")
    }).pipe(Effect.scoped))

  it.live("a frozen app: exit 4; the platform failing: exit 6; a secret never printed", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make()
      yield* simulator.registerApp({ appId: "frozen-app", secret: "frozen-secret", frozen: true })
      const frozen = yield* iocm(["login"], {
        ...simulatorEnv(simulator),
        IOCM_APP_ID: "frozen-app",
        IOCM_SECRET: "frozen-secret"
      })
      assert.strictEqual(frozen.code, 4, frozen.stderr)
      assert.match(frozen.stderr, /AccountFrozen \(100449/)
      yield* simulator.setFaults("login", { errorRate: 1 })
      const failing = yield* iocm(["login"], simulatorEnv(simulator))
      assert.strictEqual(failing.code, 6, failing.stderr)
      assert.match(failing.stderr, /PlatformInternalError \(50252, HTTP 500\)/)
      for (const run of [frozen, failing]) {
        assert.strictEqual(run.stdout, "")
        assert.notInclude(run.stderr, "frozen-secret")
        assert.notInclude(run.stderr, Redacted.value(simulator.app.secret))
      }
    }).pipe(Effect.scoped))
})

import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import * as TestServer from "@iocm/testing/TestServer"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { join } from "node:path"
import { runExample, simulatorEnv } from "./runExample.js"

const fixture = (name: string) => join(Simulator.fixturesDirectory, name)
const caFile = fixture("ca.pem")

const parse = (line: string) => JSON.parse(line) as Record<string, unknown>

describe("pnpm example refresh-token", () => {
  it.live("logs in and refreshes against the embedded simulator, tokens masked", () =>
    Effect.gen(function*() {
      const run = yield* runExample("refresh-token")
      assert.strictEqual(run.status, 0, run.stderr)
      const result = parse(run.lastLine)
      assert.strictEqual(result.ok, true)
      assert.strictEqual(result.tokenType, "bearer")
      assert.strictEqual(result.expiresIn, 3600)
      assert.strictEqual(result.scope, "default")
      assert.match(String(result.accessToken), /^\*{4}[0-9a-f]{4}$/)
      assert.match(String(result.refreshToken), /^\*{4}[0-9a-f]{4}$/)
    }), 30_000)

  it.live("an unknown IOCM_REFRESH_TOKEN is RefreshTokenRejected with exit status 1", () =>
    Effect.gen(function*() {
      const run = yield* runExample("refresh-token", { IOCM_REFRESH_TOKEN: "not-a-token-of-this-platform" })
      assert.strictEqual(run.status, 1)
      assert.deepStrictEqual(parse(run.lastLine), {
        ok: false,
        error: "RefreshTokenRejected",
        code: "100006",
        httpStatus: 401
      })
      assert.notInclude(run.stdout + run.stderr, "not-a-token-of-this-platform")
    }), 30_000)

  it.live(
    "uses the configured platform with mutual TLS, and fails without a client certificate",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.make({ tls: { mutual: true } })
        const env = simulatorEnv(simulator)
        const withCertificate = yield* runExample("refresh-token", {
          ...env,
          IOCM_CERT_FILE: fixture("client.pem"),
          IOCM_KEY_FILE: fixture("client-key.pem")
        })
        assert.strictEqual(withCertificate.status, 0, withCertificate.stderr)
        assert.strictEqual(parse(withCertificate.lastLine).ok, true)
        const counters = yield* simulator.counters
        assert.strictEqual(counters.logins, 1)
        assert.strictEqual(counters.refreshes, 1)

        const without = yield* runExample("refresh-token", env)
        assert.strictEqual(without.status, 1)
        assert.deepInclude(parse(without.lastLine), { ok: false, error: "TransportError", httpStatus: null })
      }),
    60_000
  )

  it.live(
    "wrong credentials are InvalidCredentials, and the secret is never printed",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.make()
        const run = yield* runExample("refresh-token", {
          ...simulatorEnv(simulator),
          IOCM_SECRET: "a-wrong-secret-value"
        })
        assert.strictEqual(run.status, 1)
        assert.deepStrictEqual(parse(run.lastLine), {
          ok: false,
          error: "InvalidCredentials",
          code: "100208",
          httpStatus: 401
        })
        assert.notInclude(run.stdout + run.stderr, "a-wrong-secret-value")
      }),
    30_000
  )

  it.live("an untrusted server certificate is a TransportError that says so", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make()
      const run = yield* runExample("refresh-token", {
        ...simulatorEnv(simulator),
        IOCM_CA_FILE: fixture("other-ca.pem")
      })
      assert.strictEqual(run.status, 1)
      assert.strictEqual(parse(run.lastLine).error, "TransportError")
      assert.include(run.stderr, "not trusted")
    }), 30_000)

  it.live(
    "a certificate for another host name fails, unless IOCM_VERIFY_HOSTNAME=false",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.make({
          tls: {
            cert: Fs.readFileSync(fixture("mismatch.pem"), "utf8"),
            key: Fs.readFileSync(fixture("mismatch-key.pem"), "utf8")
          }
        })
        const env = simulatorEnv(simulator)
        const checked = yield* runExample("refresh-token", env)
        assert.strictEqual(checked.status, 1)
        assert.strictEqual(parse(checked.lastLine).error, "TransportError")
        const unchecked = yield* runExample("refresh-token", { ...env, IOCM_VERIFY_HOSTNAME: "false" })
        assert.strictEqual(unchecked.status, 0, unchecked.stderr)
        assert.strictEqual(parse(unchecked.lastLine).ok, true)
      }),
    30_000
  )

  it.live("a stalled server is abandoned at IOCM_TIMEOUT", () =>
    Effect.gen(function*() {
      const { url } = yield* TestServer.make(TestServer.stall)
      const run = yield* runExample("refresh-token", {
        IOCM_BASE_URL: url,
        IOCM_APP_ID: "app",
        IOCM_SECRET: "secret-value",
        IOCM_CA_FILE: caFile,
        IOCM_TIMEOUT: "1 second"
      })
      assert.strictEqual(run.status, 1)
      assert.strictEqual(parse(run.lastLine).error, "TransportError")
      assert.include(run.stderr, "timed out")
    }), 30_000)

  it.live("plain http to a remote host is refused before anything is sent", () =>
    Effect.gen(function*() {
      const run = yield* runExample("refresh-token", {
        IOCM_BASE_URL: "http://platform.invalid:8743",
        IOCM_APP_ID: "app",
        IOCM_SECRET: "secret-value"
      })
      assert.strictEqual(run.status, 1)
      assert.deepStrictEqual(parse(run.lastLine), {
        ok: false,
        error: "InvalidPlatformConfig",
        code: null,
        httpStatus: null
      })
    }), 30_000)

  it.live(
    "a missing or invalid variable is a ConfigError naming it, and nothing is sent",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.make()
        const env = simulatorEnv(simulator)
        const { IOCM_APP_ID: _appId, ...withoutAppId } = env
        const missing = yield* runExample("refresh-token", withoutAppId)
        assert.strictEqual(missing.status, 1)
        assert.deepStrictEqual(parse(missing.lastLine), {
          ok: false,
          error: "ConfigError",
          code: null,
          httpStatus: null
        })
        assert.include(missing.stderr, "IOCM_APP_ID is not set")

        const invalid = yield* runExample("refresh-token", { ...env, IOCM_TIMEOUT: "soon" })
        assert.strictEqual(invalid.status, 1)
        assert.deepStrictEqual(parse(invalid.lastLine), {
          ok: false,
          error: "ConfigError",
          code: null,
          httpStatus: null
        })
        assert.include(
          invalid.stderr,
          `IOCM_TIMEOUT: expected a duration such as "30 seconds" or a number of seconds, got "soon"`
        )

        const counters = yield* simulator.counters
        assert.strictEqual(counters.logins, 0)
        assert.strictEqual(counters.refreshes, 0)
      }),
    60_000
  )

  it.live(
    "an empty variable is an empty value: IOCM_REFRESH_TOKEN= is MissingParameter, nothing sent",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.make()
        const run = yield* runExample("refresh-token", { ...simulatorEnv(simulator), IOCM_REFRESH_TOKEN: "" })
        assert.strictEqual(run.status, 1)
        assert.deepStrictEqual(parse(run.lastLine), {
          ok: false,
          error: "MissingParameter",
          code: "102202",
          httpStatus: null
        })
        const counters = yield* simulator.counters
        assert.strictEqual(counters.logins, 0)
        assert.strictEqual(counters.refreshes, 0)
      }),
    30_000
  )
})

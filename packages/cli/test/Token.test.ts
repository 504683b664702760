/**
 * `iocm token`, the built bin run as a process against the simulator (mutual TLS): the token alone
 * on stdout, the header for curl (and curl with it), the JSON form; with a fleet's store (a real
 * redis-server) the fleet's token, read and never replaced by a login; and every failure with its
 * exit code, stdout left empty.
 */
import { assert, describe, it } from "@effect/vitest"
import { StoredToken } from "@iocm/cache/TokenStore"
import { IocmAuth, PlatformConfig } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { TokenStore } from "@iocm/redis"
import { Simulator } from "@iocm/simulator"
import { Loopback, Redis as RedisServer, Tokens } from "@iocm/testing"
import { Effect, Layer, Redacted } from "effect"
import * as Crypto from "node:crypto"
import { fixture, hasCurl, iocm, shell, simulatorEnv } from "./utils/iocm.js"

const mutualSimulator = Simulator.make({ tls: { mutual: true } })

/** The simulator's current access token of its main app. */
const currentToken = (simulator: Simulator.Simulator.Service) =>
  Effect.map(simulator.counters, (counters) => {
    const snapshot = counters.tokens[simulator.app.appId]
    return snapshot === undefined ? undefined : Redacted.value(snapshot.accessToken)
  })

describe("iocm token without a fleet's store: a login", () => {
  it.live("prints the access token alone on stdout, says on stderr that it invalidates other holders' token", () =>
    Effect.gen(function*() {
      const simulator = yield* mutualSimulator
      const run = yield* iocm(["token"], simulatorEnv(simulator))
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, `${yield* currentToken(simulator)}\n`)
      assert.match(run.stderr, /^iocm token: logging in as iocm-demo-app: this invalidates the access token/)
      assert.notInclude(run.stdout + run.stderr, Redacted.value(simulator.app.secret))
    }).pipe(Effect.scoped))

  it.live("--header is a header for curl; --json has the type, expiry and a null generation", () =>
    Effect.gen(function*() {
      const simulator = yield* mutualSimulator
      const env = simulatorEnv(simulator)
      const header = yield* iocm(["token", "--header"], env)
      assert.strictEqual(header.code, 0, header.stderr)
      assert.strictEqual(header.stdout, `Authorization: Bearer ${yield* currentToken(simulator)}\n`)
      const json = yield* iocm(["token", "--json"], env)
      assert.strictEqual(json.code, 0, json.stderr)
      const body = JSON.parse(json.stdout) as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(body), [
        "accessToken",
        "tokenType",
        "expiresAt",
        "expiresIn",
        "generation",
        "source"
      ])
      assert.strictEqual(body["accessToken"], yield* currentToken(simulator))
      assert.strictEqual(body["tokenType"], "bearer")
      assert.isTrue(Number(body["expiresIn"]) > 3590 && Number(body["expiresIn"]) <= 3600)
      assert.isTrue(Date.parse(String(body["expiresAt"])) > Date.now())
      assert.isNull(body["generation"])
      assert.strictEqual(body["source"], "login")
    }).pipe(Effect.scoped))

  it.live.skipIf(!hasCurl)(
    "curl -H \"$(iocm token --header)\" -H \"app_key: …\" lists the devices",
    () =>
      Effect.gen(function*() {
        const simulator = yield* mutualSimulator
        yield* simulator.seedDevice({ nodeId: "lamp-1" })
        const run = yield* shell(
          "curl -sS --fail -H \"$(iocm token --header)\" -H \"app_key: $IOCM_APP_ID\" --cacert \"$IOCM_CA_FILE\" " +
            "--cert \"$IOCM_CERT_FILE\" --key \"$IOCM_KEY_FILE\" " +
            "\"$IOCM_BASE_URL/iocm/app/dm/v1.4.0/devices?pageNo=0&pageSize=10\"",
          simulatorEnv(simulator)
        )
        assert.strictEqual(run.code, 0, run.stderr)
        const page = JSON.parse(run.stdout) as { readonly totalCount: number; readonly devices: ReadonlyArray<unknown> }
        assert.strictEqual(page.totalCount, 1)
        assert.strictEqual((yield* simulator.counters).businessCalls, 1)
      }).pipe(Effect.scoped)
  )

  it.live("flags win over their variables", () =>
    Effect.gen(function*() {
      const simulator = yield* mutualSimulator
      const port = yield* Loopback.closedPort
      const env = { ...simulatorEnv(simulator), IOCM_BASE_URL: `https://127.0.0.1:${port}`, IOCM_CA_FILE: "/nowhere" }
      const run = yield* iocm(["token", "--base-url", simulator.baseUrl, "--ca-file", fixture("ca.pem")], env)
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, `${yield* currentToken(simulator)}\n`)
    }).pipe(Effect.scoped))

  it.live("failures: stdout stays empty, stderr says why, the exit code says which class", () =>
    Effect.gen(function*() {
      const simulator = yield* mutualSimulator
      const env = simulatorEnv(simulator)
      const port = yield* Loopback.closedPort
      const { IOCM_BASE_URL: _, ...withoutBaseUrl } = env
      const [usage, badFlag, unset, badUrl, noFile, wrongSecret, refused, noClientCert] = yield* Effect.all([
        iocm(["token", "--header", "--json"], env),
        iocm(["token", "--timeout", "soon"], env),
        iocm(["token"], withoutBaseUrl),
        iocm(["token"], { ...env, IOCM_BASE_URL: "http://203.0.113.10:8743" }),
        iocm(["token"], { ...env, IOCM_CA_FILE: "/nowhere/ca.pem" }),
        iocm(["token"], { ...env, IOCM_SECRET: "not-the-secret" }),
        iocm(["token"], { ...env, IOCM_BASE_URL: `https://127.0.0.1:${port}` }),
        iocm(["token"], { ...env, IOCM_CERT_FILE: "", IOCM_KEY_FILE: "" })
      ], { concurrency: 4 })
      const expect = (run: typeof usage, code: number, stderr: RegExp) => {
        assert.strictEqual(run.code, code, run.stderr)
        assert.strictEqual(run.stdout, "")
        assert.match(run.stderr, stderr)
        assert.notInclude(run.stderr, "not-the-secret")
        assert.notMatch(run.stderr, /\n\s+at /, "no stack trace")
      }
      expect(usage, 2, /--header and --json cannot be used together/)
      expect(badFlag, 3, /IOCM_TIMEOUT: expected a duration such as "30 seconds" or a number of seconds, got "soon"/)
      expect(unset, 3, /IOCM_BASE_URL is not set/)
      expect(badUrl, 3, /plain http is refused/)
      expect(noFile, 3, /IOCM_CA_FILE \(\/nowhere\/ca\.pem\): file not found/)
      expect(wrongSecret, 4, /InvalidCredentials \(100208, HTTP 401\)/)
      expect(refused, 5, /connection refused by 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/)
      expect(noClientCert, 5, /TransportError/)
    }).pipe(Effect.scoped))
})

/** A login of the simulator's main app from this process: a real token set for the fleet's store. */
const loginOf = (simulator: Simulator.Simulator.Service) =>
  IocmAuth.IocmAuth.use((auth) => auth.login).pipe(
    Effect.provide(IocmAuth.layer.pipe(Layer.provide([
      PlatformConfig.layer({ baseUrl: simulator.baseUrl, appId: simulator.app.appId, secret: simulator.app.secret }),
      IocmHttp.layer({ ca: simulator.ca, cert: simulator.clientCert, key: simulator.clientKey })
    ])))
  )

/** Writes `stored` into the store at `url`, sealed with `key`, for the simulator's main app. */
const seed = (simulator: Simulator.Simulator.Service, url: string, key: string, stored: StoredToken) =>
  Effect.flatMap(TokenStore.make({ key: Redacted.make(key) }), (store) => store.set(stored)).pipe(
    Effect.provide(TokenStore.layerConnection(url)),
    Effect.provide(
      PlatformConfig.layer({ baseUrl: simulator.baseUrl, appId: simulator.app.appId, secret: simulator.app.secret })
    )
  )

const fleet = Effect.gen(function*() {
  const simulator = yield* mutualSimulator
  const redis = yield* RedisServer.server
  const key = Crypto.randomBytes(32).toString("base64")
  const env = { ...simulatorEnv(simulator), IOCM_REDIS_URL: redis.url, IOCM_STORE_KEY: key }
  return { simulator, redis, key, env }
})

describe.runIf(RedisServer.serverAvailable())("iocm token with a fleet's store (IOCM_REDIS_URL)", () => {
  it.live("prints the fleet's token and its generation, and logs in nowhere: the fleet keeps its token", () =>
    Effect.gen(function*() {
      const { env, key, redis, simulator } = yield* fleet
      const tokens = yield* loginOf(simulator)
      yield* seed(simulator, redis.url, key, new StoredToken({ tokens, generation: 7 }))
      const [plain, json] = yield* Effect.all([iocm(["token"], env), iocm(["token", "--json"], env)])
      assert.strictEqual(plain.code, 0, plain.stderr)
      assert.strictEqual(plain.stdout, `${Redacted.value(tokens.accessToken)}\n`)
      assert.strictEqual(plain.stderr, "")
      const body = JSON.parse(json.stdout) as Record<string, unknown>
      assert.strictEqual(body["generation"], 7)
      assert.strictEqual(body["source"], "store")
      assert.strictEqual(body["accessToken"], Redacted.value(tokens.accessToken))
      const counters = yield* simulator.counters
      assert.strictEqual(counters.logins, 1)
      assert.strictEqual(yield* currentToken(simulator), Redacted.value(tokens.accessToken))
    }).pipe(Effect.scoped))

  it.live("an empty store, an expired token: exit 7 and no login", () =>
    Effect.gen(function*() {
      const { env, key, redis, simulator } = yield* fleet
      const empty = yield* iocm(["token"], env)
      assert.strictEqual(empty.code, 7, empty.stderr)
      assert.strictEqual(empty.stdout, "")
      assert.match(empty.stderr, /the fleet's store \(IOCM_REDIS_URL\) holds no token for iocm-demo-app/)
      const expired = Tokens.tokenSet({
        accessToken: "0123456789abcdef0123456789abcdef",
        issuedAt: Date.now() - 7_200_000
      })
      yield* seed(simulator, redis.url, key, new StoredToken({ tokens: expired, generation: 3 }))
      const stale = yield* iocm(["token", "--header"], env)
      assert.strictEqual(stale.code, 7, stale.stderr)
      assert.strictEqual(stale.stdout, "")
      assert.match(stale.stderr, /expired at \d{4}-\d\d-\d\dT/)
      assert.notInclude(stale.stderr, "0123456789abcdef0123456789abcdef")
      assert.strictEqual((yield* simulator.counters).logins, 0)
    }).pipe(Effect.scoped))

  it.live("no store key, a URL that is not Redis's, a wrong key, a store out of reach: exit 3, 3, 5, 5; no login", () =>
    Effect.gen(function*() {
      const { env, key, redis, simulator } = yield* fleet
      const tokens = yield* loginOf(simulator)
      yield* seed(simulator, redis.url, key, new StoredToken({ tokens, generation: 1 }))
      const port = yield* Loopback.closedPort
      const { IOCM_STORE_KEY: _, ...withoutKey } = env
      const [noKey, notRedis, wrongKey, down] = yield* Effect.all([
        iocm(["token"], withoutKey),
        iocm(["token"], { ...env, IOCM_REDIS_URL: "http://127.0.0.1:6379" }),
        iocm(["token"], { ...env, IOCM_STORE_KEY: Crypto.randomBytes(32).toString("hex") }),
        iocm(["token"], { ...env, IOCM_REDIS_URL: `redis://127.0.0.1:${port}` })
      ], { concurrency: 4 })
      assert.strictEqual(noKey.code, 3, noKey.stderr)
      assert.strictEqual(notRedis.code, 3, notRedis.stderr)
      assert.match(notRedis.stderr, /not a redis:\/\/ or rediss:\/\/ URL/)
      assert.match(noKey.stderr, /no encryption key: give `key` \(IOCM_STORE_KEY\)/)
      assert.strictEqual(wrongKey.code, 5, wrongKey.stderr)
      assert.match(wrongKey.stderr, /TokenStoreError \(get\)/)
      assert.strictEqual(down.code, 5, down.stderr)
      assert.match(down.stderr, /TokenStoreError \(get\)/)
      for (const run of [noKey, notRedis, wrongKey, down]) {
        assert.strictEqual(run.stdout, "")
        assert.notInclude(run.stderr, key)
      }
      assert.strictEqual((yield* simulator.counters).logins, 1)
    }).pipe(Effect.scoped))
})

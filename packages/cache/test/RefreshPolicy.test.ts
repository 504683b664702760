import { assert, describe, it } from "@effect/vitest"
import { IocmError } from "@iocm/core"
import { ConfigProvider, Duration, Effect, Exit, Random, Schedule } from "effect"
import * as RefreshPolicy from "../src/RefreshPolicy.js"
import { ExpiredOnArrival } from "../src/TokenError.js"
import { fixedRandom, minutes, seconds } from "./utils/Harness.js"

/** The delays of the first `count` steps of `schedule`, with every draw of `Random` equal to `draw`. */
const delays = (schedule: RefreshPolicy.Retry, count: number, draw: number) =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(schedule)
    const out: Array<number> = []
    for (let i = 0; i < count; i++) out.push(Duration.toMillis((yield* step(0, undefined))[1]))
    return out
  }).pipe(Effect.provideService(Random.Random, fixedRandom(draw)))

describe("RefreshPolicy.make", () => {
  it.effect("has safe defaults", () =>
    Effect.gen(function*() {
      const policy = yield* RefreshPolicy.make()
      assert.strictEqual(Duration.toMillis(policy.refreshLead), minutes(10))
      assert.strictEqual(Duration.toMillis(policy.jitter), minutes(2))
      assert.strictEqual(Duration.toMillis(policy.forcedWindow), seconds(30))
      assert.strictEqual(Duration.toMillis(policy.coldStartWait), seconds(30))
      assert.strictEqual(Duration.toMillis(policy.shortenBackOffAfter), seconds(5))
      assert.strictEqual(Duration.toMillis(policy.storeTimeout), seconds(5))
      assert.strictEqual(policy.retry, RefreshPolicy.defaults.retry)
    }))

  it.effect("refuses a negative, infinite or unreadable duration, naming the option", () =>
    Effect.gen(function*() {
      const refused = (options: RefreshPolicy.Options) => Effect.flip(RefreshPolicy.make(options))
      const negative = yield* refused({ refreshLead: -5 })
      assert.strictEqual(negative._tag, "InvalidRefreshPolicy")
      assert.strictEqual(negative.option, "refreshLead")
      assert.include(negative.message, "refreshLead")
      assert.strictEqual((yield* refused({ jitter: Duration.infinity })).option, "jitter")
      assert.strictEqual((yield* refused({ forcedWindow: "soon" as Duration.Input })).option, "forcedWindow")
      assert.strictEqual((yield* refused({ retryBase: "2 seconds", retryCap: "1 second" })).option, "retryCap")
      assert.strictEqual((yield* refused({ retryBase: 0 })).option, "retryBase")
    }))

  it.effect("a whole policy passes through as it is checked", () =>
    Effect.gen(function*() {
      const policy = yield* RefreshPolicy.make({ refreshLead: "5 minutes" })
      assert.deepStrictEqual(yield* RefreshPolicy.make(policy), policy)
    }))
})

describe("RefreshPolicy.windows", () => {
  it.effect("computes the windows of a token, shrinking them for short-lived tokens", () =>
    Effect.gen(function*() {
      const policy = yield* RefreshPolicy.make()
      assert.deepStrictEqual(RefreshPolicy.windows(policy, { issuedAt: 0, expiresIn: 3600 }, 0), {
        refreshAt: minutes(50),
        forcedAt: seconds(3570),
        expiresAt: seconds(3600)
      })
      assert.strictEqual(RefreshPolicy.windows(policy, { issuedAt: 0, expiresIn: 3600 }, 0.5).refreshAt, minutes(49))
      assert.deepStrictEqual(RefreshPolicy.windows(policy, { issuedAt: 1000, expiresIn: 5 }, 0), {
        refreshAt: 3500,
        forcedAt: 5500,
        expiresAt: 6000
      })
    }))
})

describe("RefreshPolicy.backOff", () => {
  it.effect("backs off exponentially from 500 ms, capped at 30 s, with full jitter floored at the base", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* delays(RefreshPolicy.defaults.retry, 8, 0), [
        500,
        500,
        500,
        500,
        500,
        500,
        500,
        500
      ])
      assert.deepStrictEqual(
        yield* delays(RefreshPolicy.defaults.retry, 8, 0.5),
        [500, 750, 1250, 2250, 4250, 8250, 15250, 15250]
      )
      assert.deepStrictEqual((yield* delays(RefreshPolicy.defaults.retry, 10, 0.999999)).slice(-1), [29999])
    }))

  it.effect("retryBase and retryCap shape the default back-off; retry replaces it", () =>
    Effect.gen(function*() {
      const shaped = yield* RefreshPolicy.make({ retryBase: "1 second", retryCap: "4 seconds" })
      assert.deepStrictEqual(yield* delays(shaped.retry, 5, 0.999999), [1000, 1999, 3999, 3999, 3999])
      const spaced = yield* RefreshPolicy.make({ retry: Schedule.spaced("7 seconds") })
      assert.deepStrictEqual(yield* delays(spaced.retry, 3, 0.5), [7000, 7000, 7000])
    }))
})

describe("RefreshPolicy.classify", () => {
  const refresh = (attempt: number) => ({ operation: "refresh" as const, attempt })
  const login = (attempt: number) => ({ operation: "login" as const, attempt })

  it("retries what says it is retryable", () => {
    assert.strictEqual(
      RefreshPolicy.classify(new IocmError.TransportError({ description: "reset" }), login(99)),
      "retry"
    )
    assert.strictEqual(RefreshPolicy.classify(new IocmError.PlatformInternalError({}), refresh(99)), "retry")
    assert.strictEqual(
      RefreshPolicy.classify(
        new IocmError.UnknownPlatformError({ code: "999", httpStatus: 503, retryable: true }),
        login(50)
      ),
      "retry"
    )
    const expired = new ExpiredOnArrival({
      code: "ExpiredOnArrival",
      description: "",
      expiresIn: 1,
      latencyMillis: 2000
    })
    assert.strictEqual(RefreshPolicy.classify(expired, login(10)), "retry")
  })

  it("logs in again after a refused or unusable refresh token", () => {
    assert.strictEqual(
      RefreshPolicy.classify(new IocmError.RefreshTokenRejected({ httpStatus: 400 }), refresh(1)),
      "relogin"
    )
    const local = new IocmError.InvalidInput({ detectedLocally: true, description: "refreshToken too long" })
    assert.strictEqual(RefreshPolicy.classify(local, refresh(1)), "relogin")
    assert.strictEqual(RefreshPolicy.classify(local, login(1)), "terminal")
  })

  it("stops at once on credentials, frozen accounts and apps, invalid or missing parameters", () => {
    for (
      const error of [
        new IocmError.InvalidCredentials({ httpStatus: 400 }),
        new IocmError.AccountFrozen({ httpStatus: 403 }),
        new IocmError.ApplicationFrozen({ httpStatus: 403 }),
        new IocmError.InvalidInput({ httpStatus: 400 }),
        new IocmError.MissingParameter({ httpStatus: 400 })
      ]
    ) {
      assert.strictEqual(RefreshPolicy.classify(error, login(1)), "terminal", error._tag)
    }
  })

  it("gives an error of unknown meaning that is not retryable a few attempts, then stops", () => {
    const unknown = new IocmError.UnknownPlatformError({ code: "1234567", httpStatus: 400, retryable: false })
    const malformed = new IocmError.MalformedResponse({ httpStatus: 200, description: "not JSON" })
    for (const error of [unknown, malformed]) {
      const decisions = [1, 2, 3, 4].map((attempt) => RefreshPolicy.classify(error, refresh(attempt)))
      assert.deepStrictEqual(decisions, ["retry", "retry", "terminal", "terminal"], error._tag)
    }
    assert.strictEqual(RefreshPolicy.unknownErrorAttempts, 3)
  })
})

describe("RefreshPolicy.config", () => {
  it.effect("reads IOCM_* durations, bare numbers as seconds, and fails on an invalid value", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        RefreshPolicy.config().pipe(
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
          Effect.exit
        )
      const policy = yield* read({ IOCM_REFRESH_LEAD: "300", IOCM_COLD_START_WAIT: "10 seconds" })
      assert.isTrue(Exit.isSuccess(policy))
      if (Exit.isSuccess(policy)) {
        assert.strictEqual(Duration.toMillis(policy.value.refreshLead), minutes(5))
        assert.strictEqual(Duration.toMillis(policy.value.coldStartWait), seconds(10))
      }
      const invalid = yield* read({ IOCM_RETRY_BASE: "soon" })
      assert.isTrue(Exit.isFailure(invalid))
      assert.include(String(Exit.isFailure(invalid) ? invalid.cause : ""), "IOCM_RETRY_BASE")
      const inconsistent = yield* read({ IOCM_RETRY_BASE: "10", IOCM_RETRY_CAP: "1" })
      assert.include(String(Exit.isFailure(inconsistent) ? inconsistent.cause : ""), "InvalidRefreshPolicy")
    }))
})

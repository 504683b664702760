/**
 * The fleet of `pnpm example fleet-worker` processes under what production does to it: a minute of
 * 5-second tokens, Redis killed and restarted empty, the lease holder paused past its lease, a login
 * from outside the fleet, and five processes trying three times the app's call budget. Real
 * processes, a real `redis-server`, the simulator over HTTPS; one scenario at a time.
 */
import { assert, describe, it } from "@effect/vitest"
import { IocmAuth, PlatformConfig } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { Simulator } from "@iocm/simulator"
import * as RedisServer from "@iocm/testing/Redis"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as Fleet from "./fleet.js"
import { simulatorEnv } from "./runExample.js"

/** The variables of a fleet on `redis` against `simulator`, for `duration`. */
const fleetEnv = (
  simulator: Simulator.Simulator.Service,
  redis: RedisServer.Server,
  duration: string,
  more: Record<string, string> = {}
) => ({
  ...simulatorEnv(simulator),
  IOCM_REDIS_URL: redis.url,
  IOCM_STORE_KEY: randomBytes(32).toString("base64"),
  IOCM_DEMO_DURATION: duration,
  ...more
})

/** A simulator of 5-second tokens whose call budget does not get in the way. */
const fastTokens = Simulator.make({ tokenLifetime: "5 seconds", rateLimit: { limit: 1_000_000 } })

/** Samples `read` every 50 ms until interrupted; the samples that are defined, in order. */
const sample = (read: Effect.Effect<number | undefined>) =>
  Effect.gen(function*() {
    const samples: Array<number> = []
    const fiber = yield* Effect.forkChild(Effect.forever(
      Effect.andThen(
        Effect.tap(read, (value) => Effect.sync(() => value !== undefined && samples.push(value))),
        Effect.sleep("50 millis")
      )
    ))
    return { samples, stop: Fiber.interrupt(fiber) }
  })

/**
 * Waits until the fleet commits a new token (`read`, the stored generation, moves): the moment
 * furthest from the next forced window (4.5 s away for a 5-second token). At most 10 s.
 */
const awaitCommit = (read: Effect.Effect<number | undefined>) =>
  Effect.gen(function*() {
    const before = yield* read
    for (let i = 0; i < 500; i++) {
      if ((yield* read) !== before) return
      yield* Effect.sleep("20 millis")
    }
    assert.fail("the fleet committed no token in 10 s")
  })

/** Asserts that `samples` never go down. */
const assertNeverDecreases = (samples: ReadonlyArray<number>) => {
  for (let i = 1; i < samples.length; i++) {
    assert.isAtLeast(
      samples[i]!,
      samples[i - 1]!,
      `the stored generation went from ${samples[i - 1]} back to ${samples[i]}`
    )
  }
}

/** An `IocmAuth` of the simulator's app, trusting its CA: a client outside the fleet. */
const outsider = (simulator: Simulator.Simulator.Service) =>
  IocmAuth.layer.pipe(
    Layer.provideMerge(IocmHttp.layer({ ca: simulator.ca })),
    Layer.provideMerge(PlatformConfig.layer({
      baseUrl: simulator.baseUrl,
      appId: simulator.app.appId,
      secret: simulator.app.secret
    }))
  )

describe.runIf(RedisServer.serverAvailable())("a fleet of fleet-worker processes", () => {
  it.live("five processes for 60 s: one login, one flight per token, the stored generation never goes back, no call fails", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.server
      const simulator = yield* fastTokens
      const probe = yield* Fleet.probe(redis, simulator.app.appId)
      const generations = yield* sample(probe.generation)
      const reports = yield* Fleet.runFleet(fleetEnv(simulator, redis, "60 seconds"))
      yield* generations.stop
      const counters = yield* simulator.counters
      for (const report of reports) assert.isTrue(report.ok, JSON.stringify(report))
      assert.strictEqual(counters.logins, 1)
      // 5-second tokens are refreshed 1.25–2.5 s after issue: one flight for the fleet makes 24 to 48
      // refreshes in 60 s, whatever the number of processes (a ping-pong multiplies them).
      assert.isAtLeast(counters.refreshes, 20)
      assert.isAtMost(counters.refreshes, 50)
      assert.strictEqual(counters.requests.refresh["100006"] ?? 0, 0)
      const tokens = new Set(reports.flatMap((report) => report.tokens))
      assert.isAtMost(tokens.size, Fleet.tokenRequests(counters))
      assertNeverDecreases(generations.samples)
      // What Redis holds is sealed: no token the platform issued appears in it.
      const dump = yield* probe.dump
      for (const snapshot of Object.values(counters.tokens)) {
        assert.notInclude(dump, Redacted.value(snapshot.accessToken))
        assert.notInclude(dump, Redacted.value(snapshot.refreshToken))
      }
    }))

  it.live("Redis down for 2 s costs no token request; killed and restarted empty, at most one extra login and every process converges", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.server
      const simulator = yield* fastTokens
      const probe = yield* Fleet.probe(redis, simulator.app.appId)
      const generations = yield* sample(probe.generation)
      const fleet = yield* Effect.forkChild(Fleet.runFleet(fleetEnv(simulator, redis, "45 seconds")))
      yield* Fleet.awaitRunning(simulator)
      // The short outage starts as a token is committed, so that it ends before that token's forced
      // window: what it tests is the wait of a refresh due while the token is valid. (An outage that
      // reaches into the forced window has each process refresh alone: the crash below.)
      yield* awaitCommit(probe.generation)
      const beforeShort = yield* simulator.counters
      const killedAt = Date.now()
      yield* redis.kill
      yield* Effect.sleep("2 seconds")
      const duringShort = yield* simulator.counters
      yield* redis.restart
      const backAt = Date.now()
      yield* Effect.sleep("500 millis")
      const afterShort = yield* simulator.counters
      const short = JSON.stringify({
        tokenRequests: [beforeShort, duringShort, afterShort].map(Fleet.tokenRequests),
        refused: [beforeShort, duringShort, afterShort].map((c) => c.requests.refresh["100006"] ?? 0),
        restartMillis: backAt - killedAt - 2000
      })
      // 12 s later a crash: 6 s without Redis (longer than a token lives), then an empty one.
      yield* Effect.sleep("9500 millis")
      yield* redis.kill
      yield* Effect.sleep("6 seconds")
      yield* redis.restart
      const restartedAt = Date.now()
      const reports = yield* Fiber.join(fleet)
      yield* generations.stop
      const counters = yield* simulator.counters
      // The short outage: the refresh due in it waits for the store — no token request while Redis is
      // down — and the fleet makes it once when it is back; no login. (A refresh already on the wire
      // when Redis dies cannot be committed: the token it replaced dies for the others, and one of
      // them may have its refresh token refused once before it adopts the store's; so one refused
      // refresh at most.)
      assert.strictEqual(afterShort.logins, beforeShort.logins, short)
      assert.isAtMost(Fleet.tokenRequests(duringShort) - Fleet.tokenRequests(beforeShort), 0, short)
      assert.isAtMost(
        (afterShort.requests.refresh["100006"] ?? 0) - (beforeShort.requests.refresh["100006"] ?? 0),
        1,
        short
      )
      assert.isAtMost(Fleet.tokenRequests(afterShort) - Fleet.tokenRequests(duringShort), 1, short)
      // The crash: at most one login more than the first.
      assert.isAtMost(counters.logins, 2)
      // Converged within two token lifetimes of the restart: no call failed after that.
      for (const report of reports) {
        assert.isTrue(
          report.lastFailureAt === null || report.lastFailureAt < restartedAt + 10_000,
          JSON.stringify(report)
        )
      }
      // The restart empties the store: the generations never go back apart from that.
      const restartIndex = generations.samples.findIndex((value, i) => i > 0 && value < generations.samples[i - 1]!)
      assertNeverDecreases(restartIndex === -1 ? generations.samples : generations.samples.slice(restartIndex))
    }))

  it.live("the lease holder paused past its lease and resumed: the stored generation never goes back, at most one extra login", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.server
      // A refresh that takes 1.5 s holds the lease long enough to catch its holder.
      const simulator = yield* Simulator.make({
        tokenLifetime: "5 seconds",
        rateLimit: { limit: 1_000_000 },
        faults: { refresh: { latency: "1500 millis" } }
      })
      const probe = yield* Fleet.probe(redis, simulator.app.appId)
      const generations = yield* sample(probe.generation)
      const fleet = yield* Effect.forkChild(
        Fleet.runFleet(fleetEnv(simulator, redis, "30 seconds", { IOCM_STORE_LEASE_TTL: "2 seconds" }))
      )
      yield* Fleet.awaitRunning(simulator)
      let owner: string | undefined
      while (owner === undefined) {
        owner = yield* probe.leaseOwner
        if (owner === undefined) yield* Effect.sleep("10 millis")
      }
      const pid = Number(owner.split(":").at(-2))
      const before = yield* simulator.counters
      process.kill(pid, "SIGSTOP")
      yield* Effect.sleep("5 seconds")
      process.kill(pid, "SIGCONT")
      const reports = yield* Fiber.join(fleet)
      yield* generations.stop
      const counters = yield* simulator.counters
      assertNeverDecreases(generations.samples)
      assert.isAtMost(counters.logins - before.logins, 1)
      assert.strictEqual(reports.length, 5)
    }))

  it.live("a login from outside the fleet: the fleet logs in once again, and every process goes on", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.server
      const simulator = yield* fastTokens
      const fleet = yield* Effect.forkChild(Fleet.runFleet(fleetEnv(simulator, redis, "25 seconds")))
      yield* Fleet.awaitRunning(simulator)
      const before = yield* simulator.counters
      yield* Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(outsider(simulator)))
      const outsideAt = Date.now()
      const reports = yield* Fiber.join(fleet)
      const counters = yield* simulator.counters
      // The outsider's login and one of the fleet's: the fleet's tokens died with it.
      assert.strictEqual(counters.logins - before.logins, 2)
      for (const report of reports) {
        assert.isTrue(report.lastFailureAt === null || report.lastFailureAt < outsideAt + 5_000, JSON.stringify(report))
      }
    }))

  it.live("flow control: five processes trying three times the budget get no 1010004 and use it fully", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.server
      // 30 calls per 5 s for the app; five processes each trying 18 per 5 s.
      const simulator = yield* Simulator.make({ rateLimit: { limit: 30, window: "5 seconds" } })
      const reports = yield* Fleet.runFleet(fleetEnv(simulator, redis, "24 seconds", {
        IOCM_FLEET_INTERVAL: "280 millis",
        IOCM_FLOW_LIMIT: "30",
        IOCM_FLOW_WINDOW: "5 seconds"
      }))
      const counters = yield* simulator.counters
      assert.strictEqual(counters.requests.devices?.["1010004"] ?? 0, 0)
      for (const report of reports) assert.isTrue(report.ok, JSON.stringify(report))
      // Each window (5 s, and the default margin of 1 s) of the 24 s gives 30 calls: four full windows.
      assert.isAtLeast(counters.businessCalls, 4 * 30)
    }))
})

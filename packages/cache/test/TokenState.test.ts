/**
 * The pure transitions of the token state, table by table: no fiber, no clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { IocmError } from "@iocm/core"
import * as Tokens from "@iocm/testing/Tokens"
import { Cause } from "effect"
import * as TokenState from "../src/internal/tokenState.js"
import type { Reason } from "../src/TokenEvent.js"
import { StoredToken } from "../src/TokenStore.js"

interface TestFlight extends TokenState.Flight {
  readonly id: number
}

let flights = 0
const request: TokenState.Request<TestFlight> = (reason: Reason) => ({ reason, id: ++flights })

/** An entry of `generation` whose windows are refresh at 50, forced at 90, expiry at 100. */
const entry = (generation: number): TokenState.Entry => {
  const tokens = Tokens.tokenSet({
    accessToken: `at-${generation}`,
    refreshToken: `rt-${generation}`,
    issuedAt: 0,
    refreshTokenLifetime: 1_000_000
  })
  return {
    stored: new StoredToken({ tokens, generation }),
    access: { token: tokens.accessToken, generation, expiresAt: 100 },
    windows: { refreshAt: 50, forcedAt: 90, expiresAt: 100 }
  }
}

const base = TokenState.initial<TestFlight>(entry(1))
const transport = new IocmError.TransportError({ description: "reset" })
const frozen = new IocmError.ApplicationFrozen({ httpStatus: 403 })
const holding = (since: number, until: number, shortened = false): TokenState.Hold => ({
  since,
  until,
  cause: Cause.fail(transport),
  shortened
})
const flight: TestFlight = { reason: "proactive", id: 0 }

describe("TokenState.get", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly state: TokenState.State<TestFlight>
    readonly now: number
    readonly decision: TokenState.GetDecision<TestFlight>["_tag"]
    readonly started?: boolean
    readonly reason?: Reason
  }> = [
    { name: "fresh: the token", state: base, now: 10, decision: "Hit" },
    { name: "fresh while a proactive refresh flies: the token", state: { ...base, flight }, now: 60, decision: "Hit" },
    { name: "forced window, a flight: join it", state: { ...base, flight }, now: 95, decision: "Join", started: false },
    {
      name: "forced window, no flight: start one",
      state: base,
      now: 95,
      decision: "Join",
      started: true,
      reason: "forced"
    },
    {
      name: "no token: start a cold flight",
      state: TokenState.initial(),
      now: 0,
      decision: "Join",
      started: true,
      reason: "cold"
    },
    {
      name: "revoked: start a forced flight",
      state: { ...base, revoked: "1010005" },
      now: 10,
      decision: "Join",
      started: true,
      reason: "forced"
    },
    { name: "back-off, valid token: the token", state: { ...base, hold: holding(91, 99) }, now: 95, decision: "Hit" },
    {
      name: "back-off, no token: its failure",
      state: { ...base, revoked: "1010005", hold: holding(10, 40) },
      now: 12,
      decision: "Fail"
    },
    {
      name: "old back-off, no token: cut short",
      state: { ...base, revoked: "1010005", hold: holding(10, 40) },
      now: 15,
      decision: "Join",
      started: true
    },
    {
      name: "old back-off already cut short: its failure",
      state: { ...base, revoked: "1010005", hold: holding(10, 40, true) },
      now: 15,
      decision: "Fail"
    },
    {
      name: "back-off over: start a flight",
      state: { ...base, revoked: "1010005", hold: holding(10, 40) },
      now: 40,
      decision: "Join",
      started: true
    },
    {
      name: "terminal, valid token: the token until expiry",
      state: { ...base, terminal: frozen },
      now: 99,
      decision: "Hit"
    },
    { name: "terminal, expired: the error", state: { ...base, terminal: frozen }, now: 100, decision: "Fail" },
    { name: "closed, valid token: the token", state: { ...base, closed: true }, now: 95, decision: "Hit" },
    {
      name: "closed, no token: closed",
      state: { ...TokenState.initial<TestFlight>(), closed: true },
      now: 0,
      decision: "Closed"
    }
  ]
  for (const c of cases) {
    it(c.name, () => {
      const [decision, next] = TokenState.get(c.state, c.now, request, 5)
      assert.strictEqual(decision._tag, c.decision)
      if (decision._tag === "Join") {
        assert.strictEqual(decision.started, c.started)
        assert.strictEqual(next.flight, decision.flight)
        if (c.reason !== undefined) assert.strictEqual(decision.flight.reason, c.reason)
      } else {
        assert.strictEqual(next, c.state, "a decision that starts nothing leaves the state as it is")
      }
      if (decision._tag === "Fail" && c.state.hold !== undefined) {
        assert.strictEqual(decision.retryAt, c.state.hold.until)
      }
    })
  }

  it("a back-off is cut short once", () => {
    const [, next] = TokenState.get({ ...base, revoked: "1010005", hold: holding(10, 40) }, 15, request, 5)
    assert.isTrue(next.hold?.shortened)
  })

  it("agrees with the read view wherever the read view answers", () => {
    for (const c of cases) {
      const view = TokenState.readView(c.state)
      const [decision] = TokenState.get(c.state, c.now, request, 5)
      if (view.access !== undefined && c.now < view.freshUntil) {
        assert.deepStrictEqual(decision, { _tag: "Hit", access: view.access }, c.name)
      } else if (view.flight !== undefined) {
        assert.deepStrictEqual(decision, { _tag: "Join", flight: view.flight, started: false }, c.name)
      }
    }
  })
})

describe("TokenState.refresh, invalidate, attempt", () => {
  it("refresh clears a terminal state and a back-off, and joins a flight in progress", () => {
    const [started, next] = TokenState.refresh({ ...base, terminal: frozen, hold: holding(0, 10) }, request)
    assert.isTrue(started?.started)
    assert.strictEqual(started?.flight.reason, "explicit")
    assert.isUndefined(next.terminal)
    assert.isUndefined(next.hold)
    const [joined] = TokenState.refresh({ ...base, flight }, request)
    assert.deepStrictEqual(joined, { flight, started: false })
    assert.isUndefined(TokenState.refresh({ ...base, closed: true }, request)[0])
  })

  const invalidations: ReadonlyArray<readonly [string, TokenState.State<TestFlight>, number, boolean, boolean]> = [
    ["the current generation: dropped, flight started", base, 1, true, true],
    ["another generation: nothing", base, 2, false, false],
    ["already revoked: nothing", { ...base, revoked: "1010005" }, 1, false, false],
    ["a flight in progress: dropped, no new flight", { ...base, flight }, 1, true, false],
    ["inside a back-off: dropped, the back-off decides", { ...base, hold: holding(0, 50) }, 1, true, false],
    ["terminal: dropped, no flight", { ...base, terminal: frozen }, 1, true, false],
    ["closed: dropped, no flight", { ...base, closed: true }, 1, true, false]
  ]
  for (const [name, state, generation, dropped, started] of invalidations) {
    it(`invalidate, ${name}`, () => {
      const [result, next] = TokenState.invalidate(state, 10, generation, "1010005", request)
      assert.deepStrictEqual(result, { dropped, started })
      // A dropped token records why; otherwise the state's own stays.
      assert.strictEqual(next.revoked, dropped ? "1010005" : state.revoked)
      if (started) assert.strictEqual(next.flight?.reason, "1010005")
    })
  }

  it("attempt registers the timer's flight, or returns the one requested", () => {
    const [fresh, next] = TokenState.attempt(base, "proactive", request)
    assert.strictEqual(next.flight, fresh)
    assert.strictEqual(TokenState.attempt({ ...base, flight }, "proactive", request)[0], flight)
  })
})

describe("TokenState.succeeded and failed", () => {
  it("success installs the entry, resets the failures and the back-off", () => {
    const next = TokenState.succeeded(
      { ...base, flight, failures: 3, hold: holding(0, 5), revoked: "1010005" },
      entry(2),
      10,
      undefined
    )
    assert.strictEqual(next.entry?.access.generation, 2)
    assert.deepStrictEqual([next.failures, next.revoked, next.flight, next.hold], [0, undefined, undefined, undefined])
    assert.strictEqual(next.generation, 2)
  })

  it("a token already due backs off with no failure to serve", () => {
    const next = TokenState.succeeded({ ...base, flight }, entry(2), 60, 70)
    assert.deepStrictEqual(next.hold, { since: 60, until: 70, cause: undefined, shortened: false })
    assert.strictEqual(next.failures, 1)
  })

  const failures: ReadonlyArray<readonly [string, number, number, number]> = [
    ["before the forced window: no later than its start", 60, 500, 90],
    ["inside the forced window: no later than expiry", 92, 500, 100],
    ["a short back-off is kept", 60, 70, 70],
    ["after expiry: as the schedule says", 120, 500, 500]
  ]
  for (const [name, now, retryAt, expected] of failures) {
    it(`a failure's retry, ${name}`, () => {
      const [result, next] = TokenState.failed(
        { ...base, flight },
        { cause: Cause.fail(transport), terminal: undefined, retryAt, streakOf: "TransportError:Transport" },
        now
      )
      assert.strictEqual(result.retryAt, expected)
      assert.strictEqual(next.hold?.until, expected)
      assert.strictEqual(result.serving, now < 100)
      assert.strictEqual(result.attempt, 1)
      assert.isUndefined(next.flight)
    })
  }

  it("a terminal failure stops the attempts and keeps the entry", () => {
    const [result, next] = TokenState.failed({ ...base, flight }, {
      cause: Cause.fail(frozen),
      terminal: frozen,
      retryAt: 0,
      streakOf: "ApplicationFrozen:100247"
    }, 60)
    assert.deepStrictEqual(result, { retryAt: undefined, serving: true, attempt: 1 })
    assert.strictEqual(next.terminal, frozen)
    assert.strictEqual(TokenState.readView(next).freshUntil, 100)
  })

  it("a token that expired on arrival replaces the one in force", () => {
    const arrived = entry(2)
    const [, next] = TokenState.failed({ ...base, revoked: "1010005", flight }, {
      cause: Cause.fail(transport),
      terminal: undefined,
      retryAt: 200,
      arrived,
      streakOf: "ExpiredOnArrival:ExpiredOnArrival"
    }, 150)
    assert.strictEqual(next.entry, arrived)
    assert.isUndefined(next.revoked)
    assert.strictEqual(next.generation, 2)
  })

  it("counts a streak of the same error; another error, a success or refresh starts it again", () => {
    const failing = (state: TokenState.State<TestFlight>, streakOf: string) =>
      TokenState.failed(state, { cause: Cause.fail(transport), terminal: undefined, retryAt: 500, streakOf }, 60)[1]
    const twice = failing(failing(base, "A"), "A")
    assert.deepStrictEqual(twice.streak, { of: "A", count: 2 })
    assert.strictEqual(TokenState.sameFailures(twice, "A"), 3)
    assert.strictEqual(TokenState.sameFailures(twice, "B"), 1)
    assert.deepStrictEqual(failing(twice, "B").streak, { of: "B", count: 1 })
    assert.isUndefined(TokenState.succeeded(twice, entry(2), 60, undefined).streak)
    const [, refreshed] = TokenState.refresh(twice, request)
    assert.deepStrictEqual([refreshed.streak, refreshed.failures], [undefined, 0])
  })

  it("close hands over the flight to interrupt and stops new ones", () => {
    const [toInterrupt, next] = TokenState.close({ ...base, flight })
    assert.strictEqual(toInterrupt, flight)
    assert.isTrue(next.closed)
    assert.isUndefined(next.flight)
  })
})

/**
 * Herd: 10 000 concurrent `TokenService.get` (`Effect.all`, unbounded concurrency) on an expired
 * token, against the simulator over HTTPS (mutual TLS, keep-alive), against one bare
 * `IocmAuth.refresh` on the same connection pool. Each round builds a fresh `TokenService` over a
 * store seeded with the newest token set, its access token already expired. The herd's time runs
 * from the start of `Effect.all` until the last caller holds its token (each caller notes when it
 * got it; the join of 10 000 fibers that follows is not counted). The simulator counts the token
 * requests. Targets: exactly 1 token request per herd, and ratio = herd time / one refresh ≤ 1.5.
 *
 * "All served within" is also read per caller: each caller notes, inside its own fiber, when it
 * called `get` and when it held the token; the max, p99 and median of that latency are reported
 * against the same refresh. The spread of the calls (from the first caller's `get` to the last
 * one's) is reported too: the callers' first steps run in one burst of microtasks, during which no
 * I/O callback runs, so no caller that waits on the network is served before the burst is over.
 *
 * To tell the token service from the fibers, the same 10 000 callers are also timed doing a bare
 * `Ref.get` (the floor: what 10 000 fibers cost in this runtime) and a herd against an in-memory
 * `IocmAuth` that answers at once (the herd without the network).
 */
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as IocmAuth from "@iocm/core/IocmAuth"
import type { TokenSet } from "@iocm/core/TokenSet"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { Figure, FigureResult } from "../harness.js"
import {
  compare,
  fullGc,
  gcMillisBetween,
  median,
  now,
  progress,
  quantile,
  recordGc,
  round,
  samples,
  timed
} from "../harness.js"
import { authLayer, httpLayer } from "../network.js"
import { type Remote, Servers, tokenRequests } from "../servers/remote.js"
import { expired, makeFakeAuth, readPems } from "../support.js"

const CALLERS = 10_000

/** Per-caller latency: from the moment a caller's fiber calls `self` until it holds the value, ms. */
interface PerCaller {
  readonly max: number
  readonly p99: number
  readonly median: number
}

interface Herd {
  /** From the start of `Effect.all` until the last caller had its value (the makespan), ms. */
  readonly lastMillis: number
  /** GC pauses in that window, ms. */
  readonly gcMillis: number
  /** Until the first caller had its value, ms. */
  readonly firstMillis: number
  /** From the first caller's call to the last caller's call, ms. */
  readonly callSpreadMillis: number
  /** From the first caller's call until the event loop next turns (a `setImmediate` runs), ms. */
  readonly eventLoopTurnMillis: number
  readonly perCaller: PerCaller
  readonly values: ReadonlyArray<unknown>
}

/**
 * `CALLERS` concurrent runs of `self`. Each caller notes, inside its fiber, when it calls `self`
 * and when it got its value.
 */
const herdOf = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<Herd, E, R> =>
  Effect.suspend(() => {
    const calledAt = new Float64Array(CALLERS)
    const servedAt = new Float64Array(CALLERS)
    let next = 0
    // When the event loop first turns (I/O, timers, immediates) after the first caller's call.
    let turnAt = Number.NaN
    const caller = Effect.suspend(() => {
      const i = next++
      calledAt[i] = now()
      if (i === 0) {
        setImmediate(() => {
          turnAt = now()
        })
      }
      return Effect.tap(self, () => {
        servedAt[i] = now()
      })
    })
    const start = now()
    return Effect.flatMap(
      Effect.all(Array.from({ length: CALLERS }, () => caller), { concurrency: "unbounded" }),
      (values) => {
        let first = Number.POSITIVE_INFINITY
        let last = 0
        let firstCall = Number.POSITIVE_INFINITY
        let lastCall = 0
        const latencies = new Array<number>(CALLERS)
        for (let i = 0; i < CALLERS; i++) {
          first = Math.min(first, servedAt[i]!)
          last = Math.max(last, servedAt[i]!)
          firstCall = Math.min(firstCall, calledAt[i]!)
          lastCall = Math.max(lastCall, calledAt[i]!)
          latencies[i] = servedAt[i]! - calledAt[i]!
        }
        return Effect.map(gcMillisBetween(start, last), (gcMillis) => ({
          lastMillis: last - start,
          firstMillis: first - start,
          callSpreadMillis: lastCall - firstCall,
          eventLoopTurnMillis: turnAt - calledAt[0]!,
          perCaller: { max: Math.max(...latencies), p99: quantile(latencies, 0.99), median: median(latencies) },
          gcMillis,
          values
        }))
      }
    )
  })

/** A fresh `TokenService` whose store holds `tokens` with the access token expired, and a herd on it. */
const herd = (tokens: TokenSet) =>
  Effect.scoped(Effect.gen(function*() {
    const seeded = new TokenStore.StoredToken({ tokens: expired(tokens), generation: 1 })
    const context = yield* Layer.build(TokenService.layer().pipe(Layer.provide(TokenStore.layerMemoryFrom(seeded))))
    const service = Context.get(context, TokenService.TokenService)
    const result = yield* herdOf(service.get)
    const fresh = Option.getOrThrow(yield* service.current)
    const allNew = result.values.every((token) => (token as TokenService.AccessToken).generation === 2)
    return { ...result, fresh, allNew }
  }))

const measure = (remote: Remote) =>
  Effect.gen(function*() {
    yield* progress(`herd: ${CALLERS} concurrent get on an expired token vs one refresh`)
    recordGc()
    const auth = yield* IocmAuth.IocmAuth
    let latest = yield* auth.login
    const requests: Array<number> = []
    const firsts: Array<number> = []
    const gcs: Array<number> = []
    const perCallers: Array<PerCaller> = []
    const spreads: Array<number> = []
    const turns: Array<number> = []
    let allNew = true
    const ours = Effect.gen(function*() {
      const before = tokenRequests(yield* remote.counters)
      const result = yield* herd(latest)
      const after = tokenRequests(yield* remote.counters)
      latest = result.fresh
      requests.push(after - before)
      firsts.push(result.firstMillis)
      gcs.push(result.gcMillis)
      perCallers.push(result.perCaller)
      spreads.push(result.callSpreadMillis)
      turns.push(result.eventLoopTurnMillis)
      allNew = allNew && result.allNew
      return result.lastMillis
    })
    const baseline = Effect.gen(function*() {
      const [millis, fresh] = yield* timed(auth.refresh(Option.getOrThrow(latest.refreshToken)))
      latest = fresh
      return millis
    })
    const comparison = yield* compare({
      label: "herd",
      warmup: 2,
      rounds: 11,
      ours,
      baseline,
      ratio: (ours, baseline) => ours / baseline,
      between: fullGc
    })
    const measured = requests.slice(-comparison.ours.length)
    // The decomposition: the same callers on a bare Ref.get, and the herd with an instant IocmAuth.
    const ref = yield* Ref.make(0)
    const fake = makeFakeAuth()
    const floor: Array<number> = []
    const floorGc: Array<number> = []
    const floorSpread: Array<number> = []
    const offline: Array<number> = []
    const offlineMax: Array<number> = []
    for (let i = 0; i < 5; i++) {
      yield* fullGc
      const bare = yield* herdOf(Ref.get(ref))
      floor.push(bare.lastMillis)
      floorGc.push(bare.gcMillis)
      floorSpread.push(bare.callSpreadMillis)
      yield* fullGc
      const instant = yield* herd(latest).pipe(Effect.provide(fake.layer))
      offline.push(instant.lastMillis)
      offlineMax.push(instant.perCaller.max)
    }
    const ratio = comparison.ratioMedian
    const exactlyOne = measured.every((n) => n === 1)
    const floorMedian = median(floor)
    // Per caller: each measured round against the baseline round paired with it.
    const rounds = perCallers.slice(-comparison.ours.length)
    const perCallerOf = (pick: (p: PerCaller) => number) => {
      const values = rounds.map(pick)
      const ratios = values.map((v, i) => v / comparison.baseline[i]!)
      return {
        median: round(median(values)),
        ratio: round(median(ratios), 3),
        rounds: values.map((x) => round(x)),
        ratioRounds: ratios.map((x) => round(x, 3))
      }
    }
    const perCaller = {
      what: `per caller, from the moment its fiber calls get until it holds the token, ms; ` +
        `ratio = that / the paired round's refresh`,
      max: perCallerOf((p) => p.max),
      p99: perCallerOf((p) => p.p99),
      median: perCallerOf((p) => p.median)
    }
    const result: FigureResult = {
      name: "herd",
      ours: round(comparison.oursMedian),
      baseline: round(comparison.baselineMedian),
      unit: "ms",
      ratioDefinition:
        `time until all ${CALLERS} concurrent callers hold the new token / latency of one bare IocmAuth.refresh`,
      ratio: round(ratio, 3),
      target: "exactly 1 token request; ratio ≤ 1.5",
      measured: `${exactlyOne ? "1 token request per herd" : `token requests ${measured.join(",")}`}; ratio ${
        round(ratio, 3)
      }; per caller: max ${perCaller.max.ratio}, p99 ${perCaller.p99.ratio}, median ${perCaller.median.ratio}`,
      pass: exactlyOne && allNew && ratio <= 1.5,
      rounds: comparison.ours.length,
      details: {
        tokenRequestsPerHerd: measured,
        everyCallerGotTheNewToken: allNew,
        perCallerMillis: perCaller,
        callSpreadMillis: {
          what: `from the first caller's get to the last one's: one burst of microtasks, no I/O callback runs ` +
            `inside it, so no caller waiting on the network is served before it ends`,
          median: round(median(spreads.slice(-comparison.ours.length)))
        },
        eventLoopTurnMillis: {
          what: `from the first caller's get until the event loop next turns (a setImmediate scheduled then runs): ` +
            `the soonest a response from the network can be read`,
          median: round(median(turns.slice(-comparison.ours.length)))
        },
        firstCallerServedMillis: round(median(firsts.slice(-comparison.ours.length))),
        gcPausesDuringHerdMillis: round(median(gcs.slice(-comparison.ours.length))),
        fiberFloorMillis: {
          what: `the same ${CALLERS} callers (Effect.all, unbounded) on a bare Ref.get: the cost of the fibers alone`,
          median: round(floorMedian),
          gcPausesMillis: round(median(floorGc)),
          callSpreadMillis: round(median(floorSpread)),
          rounds: floor.map((x) => round(x))
        },
        herdWithoutNetworkMillis: {
          what: `the same herd against an in-memory IocmAuth that answers at once`,
          median: round(median(offline)),
          rounds: offline.map((x) => round(x)),
          perCallerMaxMillis: round(median(offlineMax))
        },
        herdOverFloorPlusRefresh: round(comparison.oursMedian / (floorMedian + comparison.baselineMedian), 3),
        ...samples(comparison)
      }
    }
    return result
  })

export const figure: Figure<Servers> = {
  id: "herd",
  run: Effect.gen(function*() {
    const remote = yield* (yield* Servers).get
    return yield* measure(remote).pipe(
      Effect.provide(authLayer(remote.info.simulator, "herd").pipe(Layer.provide(httpLayer(readPems()))))
    )
  })
}

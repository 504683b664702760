/**
 * Fault injection per endpoint: added latency, and a share of requests that get an injected
 * 500/50252, a reset connection, a truncated JSON body or a proxy's HTML error page.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import type { Endpoint, Faults } from "../Simulator.js"
import { decode as decodeDuration } from "./duration.js"

/** @internal */
export type FaultAction = "reset" | "html" | "truncate" | "error"

/** @internal */
export interface Decision {
  readonly latency: Duration.Duration
  readonly action: FaultAction | undefined
}

interface Armed {
  readonly latency: Duration.Duration
  readonly rates: ReadonlyArray<readonly [FaultAction, number]>
  readonly remaining: number | undefined
}

/**
 * The longest latency a fault may add: longer would only hang the client under test.
 *
 * @internal
 */
export const maxLatency = Duration.hours(1)

const rate = (value: boolean | number | undefined): number => {
  if (value === true) return 1
  if (value === undefined || value === false || !Number.isFinite(value)) return 0
  return Math.min(1, Math.max(0, value))
}

/**
 * Normalises user-given faults: rates clamped to `0..1` (`true` is 1), latency decoded (an invalid
 * or negative latency is none) and capped at `maxLatency`.
 */
const arm = (faults: Faults): Armed | undefined => {
  const latency = faults.latency === undefined
    ? Duration.zero
    : Duration.min(Option.getOrElse(decodeDuration(faults.latency), () => Duration.zero), maxLatency)
  const rates: ReadonlyArray<readonly [FaultAction, number]> = [
    ["reset", rate(faults.reset)],
    ["html", rate(faults.html)],
    ["truncate", rate(faults.truncate)],
    ["error", rate(faults.errorRate)]
  ]
  const remaining = faults.times === undefined ? undefined : Math.max(0, Math.floor(faults.times))
  if (remaining === 0 || (Duration.isZero(latency) && rates.every(([, r]) => r === 0))) {
    return undefined
  }
  return { latency, rates: rates.filter(([, r]) => r > 0), remaining }
}

/**
 * Picks an action from one uniform draw: the rates partition `[0, 1)` in the order reset, html,
 * truncate, error (a total above 1 cuts the later ones short).
 */
const pick = (rates: ReadonlyArray<readonly [FaultAction, number]>, draw: number): FaultAction | undefined => {
  let bound = 0
  for (const [action, r] of rates) {
    bound += r
    if (draw < bound) return action
  }
  return undefined
}

/** @internal */
export interface FaultRegistry {
  readonly set: (endpoint: Endpoint, faults: Faults) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
  readonly decide: (endpoint: Endpoint) => Effect.Effect<Decision>
}

const none: Decision = { latency: Duration.zero, action: undefined }

const succeedNone = Effect.succeed(none)

/** The endpoint's armed faults, and the registry after one use of them. */
const take = (
  map: ReadonlyMap<Endpoint, Armed>,
  endpoint: Endpoint
): readonly [Armed | undefined, ReadonlyMap<Endpoint, Armed>] => {
  const current = map.get(endpoint)
  if (current === undefined || current.remaining === undefined) return [current, map]
  const next = new Map(map)
  if (current.remaining <= 1) next.delete(endpoint)
  else next.set(endpoint, { ...current, remaining: current.remaining - 1 })
  return [current, next]
}

/** The decision for one request: no fault, or the armed latency and one draw among the rates. */
const draw = (armed: Armed | undefined): Effect.Effect<Decision> => {
  if (armed === undefined) return succeedNone
  if (armed.rates.length === 0) return Effect.succeed({ latency: armed.latency, action: undefined })
  return Effect.map(Random.next, (value): Decision => ({ latency: armed.latency, action: pick(armed.rates, value) }))
}

/** @internal */
export const make = (initial: Partial<Record<Endpoint, Faults>>): Effect.Effect<FaultRegistry> =>
  Effect.gen(function*() {
    const start = new Map<Endpoint, Armed>()
    for (const [endpoint, faults] of Object.entries(initial) as Array<[Endpoint, Faults | undefined]>) {
      const armed = faults === undefined ? undefined : arm(faults)
      if (armed !== undefined) start.set(endpoint, armed)
    }
    const ref = yield* Ref.make<ReadonlyMap<Endpoint, Armed>>(start)
    return {
      set: (endpoint, faults) =>
        Ref.update(ref, (map) => {
          const next = new Map(map)
          const armed = arm(faults)
          if (armed === undefined) next.delete(endpoint)
          else next.set(endpoint, armed)
          return next
        }),
      clear: Ref.set(ref, new Map()),
      decide: (endpoint) =>
        // Take one use of a `times`-limited fault set atomically, then draw outside the Ref.
        Effect.flatMap(Ref.modify(ref, (map) => take(map, endpoint)), draw)
    }
  })

/**
 * Request counters per endpoint and outcome.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { CountedEndpoint } from "../Simulator.js"

/** @internal */
export type Table = Readonly<Record<CountedEndpoint, Readonly<Record<string, number>>>>

/** @internal */
export interface CounterRegistry {
  readonly record: (endpoint: CountedEndpoint, outcome: string) => Effect.Effect<void>
  readonly table: Effect.Effect<Table>
  readonly reset: Effect.Effect<void>
}

const empty = (): Table => ({ login: {}, refresh: {}, devices: {}, other: {} })

/** @internal */
export const make: Effect.Effect<CounterRegistry> = Effect.gen(function*() {
  const ref = yield* Ref.make(empty())
  return {
    record: (endpoint, outcome) =>
      Ref.update(ref, (table) => ({
        ...table,
        [endpoint]: { ...table[endpoint], [outcome]: (table[endpoint][outcome] ?? 0) + 1 }
      })),
    table: Ref.get(ref),
    reset: Ref.set(ref, empty())
  }
})

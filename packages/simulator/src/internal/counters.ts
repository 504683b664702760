/**
 * Request counters per endpoint and outcome, and the requests that relied on the platform's
 * leniency.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { CountedEndpoint, Leniency, RequestCounts } from "../Simulator.js"

/** @internal */
export type LeniencyCounts = Readonly<Record<Leniency, number>>

/** @internal */
export interface CounterRegistry {
  readonly record: (endpoint: CountedEndpoint, outcome: string) => Effect.Effect<void>
  readonly recordLeniency: (leniency: Leniency) => Effect.Effect<void>
  readonly table: Effect.Effect<RequestCounts>
  readonly leniency: Effect.Effect<LeniencyCounts>
  readonly reset: Effect.Effect<void>
}

// The endpoints that were there from the start are always listed; the others once they answer.
const emptyTable = (): RequestCounts => ({ login: {}, refresh: {}, devices: {}, other: {} })

const noLeniency: LeniencyCounts = { loginFieldCase: 0, bearerCase: 0 }

/** @internal */
export const make: Effect.Effect<CounterRegistry> = Effect.gen(function*() {
  const table = yield* Ref.make(emptyTable())
  const leniency = yield* Ref.make(noLeniency)
  return {
    record: (endpoint, outcome) =>
      Ref.update(table, (counts) => {
        const row = counts[endpoint] ?? {}
        return { ...counts, [endpoint]: { ...row, [outcome]: (row[outcome] ?? 0) + 1 } }
      }),
    recordLeniency: (kind) => Ref.update(leniency, (counts) => ({ ...counts, [kind]: counts[kind] + 1 })),
    table: Ref.get(table),
    leniency: Ref.get(leniency),
    reset: Effect.andThen(Ref.set(table, emptyTable()), Ref.set(leniency, noLeniency))
  }
})

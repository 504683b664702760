/**
 * Whether a shared `TokenStore` answers, as a `TokenService` sees it: the first failure after
 * answers is a state change (`StoreUnavailable`: an event, a warning, the gauge at 0), the first
 * answer after failures another (`StoreRecovered`); every failure is counted.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as PubSub from "effect/PubSub"
import type { TokenEvent } from "../TokenEvent.js"
import { storeFailures } from "../TokenMetrics.js"
import type { TokenStoreError } from "../TokenStore.js"
import * as Report from "./report.js"

/** What the store calls tell the service's view of the store. */
export interface StoreHealth {
  readonly failed: (error: TokenStoreError) => Effect.Effect<void>
  readonly answered: Effect.Effect<void>
  /** Whether the last call answered. */
  readonly available: () => boolean
}

/** The change an outcome makes to whether the store is available: the new value when it changes. */
export const next = (available: boolean, outcome: "failed" | "answered"): boolean | undefined =>
  outcome === "failed" ? (available ? false : undefined) : (available ? undefined : true)

/** The health of a store shared by a fleet, told on `events`. */
export const make = (events: PubSub.PubSub<TokenEvent>): StoreHealth => {
  let available = true
  const change = (outcome: "failed" | "answered") => {
    const changed = next(available, outcome)
    if (changed !== undefined) available = changed
    return changed
  }
  return {
    failed: (error) =>
      Effect.suspend(() => {
        const count = Metric.update(Metric.withAttributes(storeFailures, { operation: error.operation }), 1)
        return change("failed") === undefined
          ? count
          : Effect.andThen(
            count,
            Report.change(events, { _tag: "StoreUnavailable", operation: error.operation, error })
          )
      }),
    answered: Effect.suspend(() =>
      change("answered") === undefined ? Effect.void : Report.change(events, { _tag: "StoreRecovered" })
    ),
    available: () => available
  }
}

/** A store private to the process: nothing to tell. */
export const none: StoreHealth = { failed: () => Effect.void, answered: Effect.void, available: () => true }

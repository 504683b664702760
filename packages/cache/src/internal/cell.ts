/**
 * The state of a `TokenService` in a `Ref`, with a synchronous mirror for the read path: every
 * write goes through `modify`, which keeps `state`, its read view and the precomputed `hit` equal
 * to the content of the `Ref`, so that a fresh `get` is a read of two fields and of the clock.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as Tracer from "effect/Tracer"
import type { TokenError } from "../TokenError.js"
import type { AccessToken } from "../TokenService.js"
import type * as Outcome from "./outcome.js"
import * as TokenState from "./tokenState.js"

/** A flight of the service: the `Outcome` its callers await. */
export interface Pending extends TokenState.Flight {
  readonly outcome: Outcome.Outcome<AccessToken, TokenError>
  /**
   * What a `get` on the read path runs to join this flight: one effect per flight, shared by every
   * caller, so a joining caller costs one `outcome.await` and nothing is built per call.
   */
  readonly join: Effect.Effect<AccessToken, TokenError>
  /** The span of the caller whose call registered the flight (none for the worker's own): the flight's span links to it. */
  readonly trigger: Tracer.AnySpan | undefined
}

/** The state of the service. */
export type State = TokenState.State<Pending>

/** The state, its mirror, and the only ways to change it. */
export class Cell {
  /** The content of `ref`, readable synchronously. */
  state: State
  /** The read view of `state` (see `TokenState.readView`). */
  view: TokenState.ReadView<Pending>
  /** `Effect.succeed(view.access)`, built once per token. */
  hit: Effect.Effect<AccessToken> | undefined
  /** Completed, and replaced, whenever a flight is registered or the service closes. */
  private signal = Deferred.makeUnsafe<void>()

  constructor(readonly ref: Ref.Ref<State>, initial: State) {
    this.state = initial
    this.view = TokenState.readView(initial)
    this.hit = this.view.access === undefined ? undefined : Effect.succeed(this.view.access)
  }

  /**
   * Runs a transition of the state (see `tokenState.ts`). Callers waiting for the next flight are
   * woken after the state is in place, not from inside the transition.
   */
  modify<B>(f: (state: State) => readonly [B, State]): Effect.Effect<B> {
    return Effect.flatMap(
      Ref.modify(this.ref, (state) => {
        const result = f(state)
        const woken = result[1] === state ? undefined : this.mirror(result[1])
        return [[result[0], woken] as const, result[1]]
      }),
      ([result, woken]) => {
        if (woken !== undefined) Deferred.doneUnsafe(woken, Effect.void)
        return Effect.succeed(result)
      }
    )
  }

  /**
   * Completes when the next flight is registered or the service closes, from the state as it is
   * now: what a caller waiting out a back-off wakes on, so that it joins a retry that started early.
   */
  nextFlight(): Effect.Effect<void> {
    return Deferred.await(this.signal)
  }

  /** Runs a transition that decides nothing. */
  update(f: (state: State) => State): Effect.Effect<void> {
    return this.modify((state) => [void 0, f(state)])
  }

  /** Keeps the mirror equal to `state`; returns the signal to complete when a flight was registered or the service closed. */
  private mirror(state: State): Deferred.Deferred<void> | undefined {
    const registered = state.flight !== undefined && state.flight !== this.state.flight
    const woken = registered || (state.closed && !this.state.closed) ? this.signal : undefined
    if (woken !== undefined) this.signal = Deferred.makeUnsafe<void>()
    this.state = state
    const view = TokenState.readView(state)
    if (view.access !== this.view.access) this.hit = view.access === undefined ? undefined : Effect.succeed(view.access)
    this.view = view
    return woken
  }
}

/** A cell holding `initial`. */
export const make = (initial: State): Effect.Effect<Cell> =>
  Effect.map(Ref.make(initial), (ref) => new Cell(ref, initial))

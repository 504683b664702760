/**
 * The state of a `TokenService` in a `Ref`, with a synchronous mirror for the read path: every
 * write goes through `modify`, which keeps `state`, its read view and the precomputed `hit` equal
 * to the content of the `Ref`, so that a fresh `get` is a read of two fields and of the clock.
 *
 * @internal
 */
import type * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { TokenError } from "../TokenError.js"
import type { AccessToken } from "../TokenService.js"
import * as TokenState from "./tokenState.js"

/** A flight of the service: the `Deferred` its callers await. */
export interface Pending extends TokenState.Flight {
  readonly deferred: Deferred.Deferred<AccessToken, TokenError>
  /**
   * What a `get` on the read path runs to join this flight: one effect per flight, shared by every
   * caller, so a joining caller costs one `Deferred.await` and nothing is built per call.
   */
  readonly join: Effect.Effect<AccessToken, TokenError>
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

  constructor(readonly ref: Ref.Ref<State>, initial: State) {
    this.state = initial
    this.view = TokenState.readView(initial)
    this.hit = this.view.access === undefined ? undefined : Effect.succeed(this.view.access)
  }

  /** Runs a transition of the state (see `tokenState.ts`). */
  modify<B>(f: (state: State) => readonly [B, State]): Effect.Effect<B> {
    return Ref.modify(this.ref, (state) => {
      const result = f(state)
      if (result[1] !== state) this.mirror(result[1])
      return result
    })
  }

  /** Runs a transition that decides nothing. */
  update(f: (state: State) => State): Effect.Effect<void> {
    return this.modify((state) => [void 0, f(state)])
  }

  private mirror(state: State): void {
    this.state = state
    const view = TokenState.readView(state)
    if (view.access !== this.view.access) this.hit = view.access === undefined ? undefined : Effect.succeed(view.access)
    this.view = view
  }
}

/** A cell holding `initial`. */
export const make = (initial: State): Effect.Effect<Cell> =>
  Effect.map(Ref.make(initial), (ref) => new Cell(ref, initial))

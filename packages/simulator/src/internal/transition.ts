/**
 * Pure state transitions run against a `Ref`: a transition answers with a result or the platform's
 * error, and the next state; `run` applies one atomically at the `Clock`'s current time.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { reject } from "./errors.js"

/**
 * A transition's outcome: its answer (or the platform's error) and the state after it.
 *
 * @internal
 */
export type Transition<S, A> = readonly [Result.Result<A, ErrorSpec>, S]

/**
 * A pure answer as an effect: the platform's error becomes a `PlatformReject`.
 *
 * @internal
 */
export const fromResult = <A>(result: Result.Result<A, ErrorSpec>): Effect.Effect<A, PlatformReject> =>
  Result.match(result, { onFailure: (spec) => Effect.fail(reject(spec)), onSuccess: Effect.succeed })

/**
 * Applies `f` to the state in `ref` at the current time, atomically, and answers its result.
 *
 * @internal
 */
export const run = <S, A>(
  ref: Ref.Ref<S>,
  f: (state: S, now: number) => Transition<S, A>
): Effect.Effect<A, PlatformReject> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    return yield* fromResult(yield* Ref.modify(ref, (state) => f(state, now)))
  })

/**
 * The wiring of `TokenService` and its read path: the state of `tokenState.ts` in a `Cell`, what
 * callers of `get`, `refresh` and `invalidate` do, and the worker of `worker.ts`, forked in the
 * service's scope. A flight is an `Outcome` every caller awaits.
 *
 * The performance tweaks of the read path live here and in `cell.ts` only (each is justified in
 * `BENCHMARKS.md`): the synchronous mirror with the precomputed answer of the read view, one
 * shared join effect per flight, and a wake-up of the worker inside the caller's step.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type { TokenError } from "../TokenError.js"
import type { Reason, TokenEvent } from "../TokenEvent.js"
import type { AccessToken, Service } from "../TokenService.js"
import { type StoredToken, TokenStore } from "../TokenStore.js"
import * as BoundedStore from "./boundedStore.js"
import * as Cell from "./cell.js"
import * as Follower from "./follower.js"
import * as InProcessStore from "./inProcessStore.js"
import * as Outcome from "./outcome.js"
import * as Report from "./report.js"
import * as StoreHealth from "./storeHealth.js"
import * as TokenState from "./tokenState.js"
import * as Worker from "./worker.js"

/** What the callers' side works with. */
interface Callers {
  readonly cell: Cell.Cell
  readonly now: () => number
  readonly request: TokenState.Request<Cell.Pending>
  readonly coldStartWait: number
  readonly shortenAfter: number
  readonly wake: Queue.Queue<void>
}

/** @internal */
export const make = (
  policyInput?: RefreshPolicy.Options | RefreshPolicy.RefreshPolicy | undefined
): Effect.Effect<Service, RefreshPolicy.InvalidRefreshPolicy, IocmAuth.IocmAuth | TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const policy = yield* RefreshPolicy.make(policyInput)
    const auth = yield* IocmAuth.IocmAuth
    const store = yield* TokenStore
    const clock = yield* Clock.Clock
    const events = yield* Effect.acquireRelease(PubSub.sliding<TokenEvent>(1024), PubSub.shutdown)
    const wake = yield* Queue.sliding<void>(1)
    const now = () => clock.currentTimeMillisUnsafe()
    const entryOf = (stored: StoredToken, random: number): TokenState.Entry => ({
      stored,
      access: { token: stored.tokens.accessToken, generation: stored.generation, expiresAt: stored.tokens.expiresAt },
      windows: RefreshPolicy.windows(policy, stored.tokens, random)
    })

    const shared = !InProcessStore.isInProcess(store)
    const health = shared ? StoreHealth.make(events) : StoreHealth.none
    const adopted = yield* adoptAtStart(store, policy, health, entryOf, now, events)
    const cell = yield* Cell.make(TokenState.initial(adopted?.entry))
    const callers: Callers = {
      cell,
      now,
      request: (reason) => request(callers, reason, callerSpan()),
      coldStartWait: Duration.toMillis(policy.coldStartWait),
      shortenAfter: Duration.toMillis(policy.shortenBackOffAfter),
      wake
    }

    yield* Effect.addFinalizer(() =>
      Effect.flatMap(
        cell.modify(TokenState.close),
        (flight) => flight === undefined ? Effect.void : flight.outcome.interrupt()
      )
    )
    const worker: Worker.Worker = {
      cell,
      events,
      policy,
      now,
      entryOf,
      request: (reason) => request(callers, reason, undefined),
      wake,
      flight: {
        auth,
        store,
        policy,
        now,
        local: Effect.sync(() => ({ stored: cell.state.entry?.stored, generation: cell.state.generation })),
        known: () => BoundedStore.tokensOf(cell.state.entry?.stored),
        health,
        urgent: () => TokenState.urgent(cell.state),
        revoked: () => cell.state.revoked,
        dropRefreshToken: (generation, dropped) =>
          cell.update((state) => TokenState.refreshTokenDropped(state, generation, dropped))
      }
    }
    yield* Effect.forkScoped(Effect.interruptible(Worker.run(worker, adopted?.timer)))
    // A store shared by a fleet: adopt what the other processes commit (a private store has no one to follow).
    if (shared) yield* Effect.forkScoped(Follower.run({ cell, store, policy, events, now, entryOf, wake, health }))

    return {
      get: makeGet(callers, clock),
      refresh: refresh(callers),
      invalidate: (generation, reason = "invalidated") => invalidate(callers, events, generation, reason),
      current: Effect.sync(() => Option.fromNullishOr(cell.state.entry?.stored.tokens)),
      changes: Stream.fromPubSub(events)
    }
  })

/**
 * The token set the store holds at start, kept even when its access token has expired (its
 * refresh token may not have); a valid one is told as adopted and refreshed on schedule.
 */
const adoptAtStart = (
  store: TokenStore["Service"],
  policy: RefreshPolicy.RefreshPolicy,
  health: StoreHealth.StoreHealth,
  entryOf: (stored: StoredToken, random: number) => TokenState.Entry,
  now: () => number,
  events: PubSub.PubSub<TokenEvent>
): Effect.Effect<{ readonly entry: TokenState.Entry; readonly timer: Worker.Timer | undefined } | undefined> =>
  Effect.gen(function*() {
    const stored = yield* BoundedStore.readStore(store, policy.storeTimeout, health)
    if (stored === undefined) return undefined
    const entry = entryOf(stored, yield* Random.next)
    const at = now()
    if (at >= entry.windows.expiresAt) return { entry, timer: undefined }
    const { expiresAt, refreshAt } = entry.windows
    yield* Report.change(events, {
      _tag: "AdoptedAtStart",
      generation: entry.access.generation,
      expiresAt,
      refreshAt,
      at
    })
    return {
      entry,
      timer: { at: refreshAt, reason: "proactive", generation: entry.access.generation, access: entry.access }
    }
  })

/**
 * A new flight, registered by the caller of `trigger`'s span (undefined: by the worker); a caller
 * that joins it on the read path waits up to the cold-start wait from now.
 */
const request = (callers: Callers, reason: Reason, trigger: Tracer.AnySpan | undefined): Cell.Pending => {
  const outcome = Outcome.makeUnsafe<AccessToken, TokenError>()
  const deadline = callers.now() + callers.coldStartWait
  return {
    reason,
    outcome,
    join: Effect.catch(outcome.await, (error) => afterFailure(callers, error, deadline)),
    trigger
  }
}

/**
 * The span the running fiber is in, if any: read when a caller registers a flight (inside the
 * state's transition, so without an effect), which is rare — never on the read path.
 */
const callerSpan = (): Tracer.AnySpan | undefined => {
  const fiber = Fiber.getCurrent()
  return fiber === undefined ? undefined : Option.getOrUndefined(Context.getOption(fiber.context, Tracer.ParentSpan))
}

// Wakes the worker now, in this fiber's step: releasing the taker resumes the parked worker
// synchronously, so it starts the flight (the request is on the wire) before this caller even
// awaits it. `Queue.offer` releases it through the scheduler (a `setImmediate`), after every fiber
// already queued: in a herd, after the 9 999 other callers' first steps.
const wakeWorkerNow = (wake: Queue.Queue<void>) =>
  Effect.sync(() => {
    Queue.offerUnsafe(wake, void 0)
    Queue.flushUnsafe(wake)
  })

/**
 * Runs a transition that may register a flight, and wakes the worker when it did, as one step an
 * interruption cannot split: a flight registered but never started would hang every later caller.
 * Only the wait that follows is interruptible.
 */
const transition = <B>(
  callers: Callers,
  f: (state: Cell.State) => readonly [B, Cell.State],
  started: (result: B) => boolean,
  wakeWorker: Effect.Effect<unknown> = wakeWorkerNow(callers.wake)
): Effect.Effect<B> =>
  Effect.uninterruptible(Effect.tap(callers.cell.modify(f), (result) => started(result) ? wakeWorker : Effect.void))

/**
 * A failed flight does not withhold a token that is still valid; without one, a caller waits for
 * the next attempts until its `deadline` (the cold-start wait), then fails with the error.
 */
const afterFailure = (callers: Callers, error: TokenError, deadline: number): Effect.Effect<AccessToken, TokenError> =>
  Effect.suspend(() => {
    const at = callers.now()
    const access = TokenState.valid(callers.cell.state, at)
    if (access !== undefined) return Effect.succeed(access)
    return at < deadline ? getWithin(callers, deadline) : Effect.fail(error)
  })

/** `get` for a caller that waits for a token until `deadline`. */
const getWithin = (callers: Callers, deadline: number): Effect.Effect<AccessToken, TokenError> =>
  Effect.suspend(() => {
    const at = callers.now()
    let nextFlight: Effect.Effect<void> = Effect.never
    return Effect.flatMap(
      transition(
        callers,
        (state) => {
          nextFlight = callers.cell.nextFlight()
          return TokenState.get(state, at, callers.request, callers.shortenAfter)
        },
        (decision) => decision._tag === "Join" && decision.started
      ),
      (decision) => {
        switch (decision._tag) {
          case "Hit":
            return Effect.succeed(decision.access)
          case "Join":
            return Effect.catch(
              decision.flight.outcome.await,
              (error) => afterFailure(callers, error, deadline)
            )
          case "Fail":
            // Waits out the back-off, or less: until a retry (or a refresh) starts, or the service closes.
            return decision.retryAt !== undefined && decision.retryAt <= deadline
              ? Effect.andThen(
                Effect.raceFirst(Effect.sleep(Duration.millis(decision.retryAt - at)), nextFlight),
                getWithin(callers, deadline)
              )
              : Effect.failCause(decision.cause)
          case "Closed":
            return Effect.interrupt
        }
      }
    )
  })

/** The read path: a read of the mirror and of the clock, the answer precomputed; else `getWithin`. */
const makeGet = (callers: Callers, clock: Clock.Clock): Effect.Effect<AccessToken, TokenError> => {
  const { cell } = callers
  const slow = Effect.suspend(() => getWithin(callers, callers.now() + callers.coldStartWait))
  return Effect.suspend(() => {
    if (cell.hit !== undefined && clock.currentTimeMillisUnsafe() < cell.view.freshUntil) return cell.hit
    return cell.view.flight !== undefined ? cell.view.flight.join : slow
  })
}

const refresh = (callers: Callers): Effect.Effect<AccessToken, TokenError> =>
  Effect.flatMap(
    transition(callers, (state) => TokenState.refresh(state, callers.request), (joined) => joined?.started === true),
    (joined) => joined === undefined ? Effect.interrupt : joined.flight.outcome.await
  )

const invalidate = (
  callers: Callers,
  events: PubSub.PubSub<TokenEvent>,
  generation: number,
  reason: Reason
): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const at = callers.now()
    return Effect.flatMap(
      transition(
        callers,
        (state) => TokenState.invalidate(state, at, generation, reason, callers.request),
        (result) => result.started,
        // Later: `Invalidated` goes out before any event of the flight it starts.
        Queue.offer(callers.wake, void 0)
      ),
      ({ dropped }) =>
        dropped
          ? Effect.as(Report.change(events, { _tag: "Invalidated", reason, generation }), true)
          : Effect.succeed(false)
    )
  })

/**
 * The follower of a `TokenService` whose store is shared by a fleet: it adopts, without asking the
 * platform, every newer generation another process commits — at once when the store announces it
 * (`TokenStore.Service.changes`), and by reading the store every `RefreshPolicy.followInterval`, as
 * announcements can be lost. `get` never touches the store: it reads the state this keeps current.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import type * as RefreshPolicy from "../RefreshPolicy.js"
import type { TokenEvent } from "../TokenEvent.js"
import { StoredToken, type TokenStore } from "../TokenStore.js"
import * as BoundedStore from "./boundedStore.js"
import type { Cell } from "./cell.js"
import * as Report from "./report.js"
import type * as StoreHealth from "./storeHealth.js"
import * as TokenState from "./tokenState.js"

/** What the follower works with. */
export interface Follower {
  readonly cell: Cell
  readonly store: TokenStore["Service"]
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly events: PubSub.PubSub<TokenEvent>
  readonly now: () => number
  readonly entryOf: (stored: StoredToken, random: number) => TokenState.Entry
  readonly health: StoreHealth.StoreHealth
  /** Woken after an adoption, so that the worker takes up the adopted token's schedule. */
  readonly wake: Queue.Queue<void>
}

/** The pause before subscribing again to announcements that failed. */
const resubscribePause = Duration.seconds(1)

/** Follows the store for as long as the service lives (announcements and periodic reads side by side). */
export const run = (follower: Follower): Effect.Effect<void> => {
  const store = BoundedStore.make(follower.store, follower.policy.storeTimeout, () => [], follower.health)
  return Effect.all([listen(follower, store), poll(follower, store)], { concurrency: "unbounded", discard: true })
}

/**
 * Reads the store on each announced generation that is not older than this process's (one of the
 * same generation may carry another token); subscribes again when the stream fails.
 */
const listen = (follower: Follower, store: BoundedStore.BoundedStore): Effect.Effect<void> => {
  const { changes } = follower.store
  if (changes === undefined) return Effect.void
  const follow = Stream.runForEach(
    changes,
    (generation) => generation >= follower.cell.state.generation ? adoptFromStore(follower, store) : Effect.void
  )
  return Effect.forever(Effect.andThen(Effect.ignoreCause(follow), Effect.sleep(resubscribePause)))
}

/** The pause between two reads of a store out of reach: a store back is read again, and seeded again, at once. */
const outagePoll = Duration.seconds(1)

/** Reads the store every `followInterval`, or every `outagePoll` while it is out of reach. */
const poll = (follower: Follower, store: BoundedStore.BoundedStore): Effect.Effect<void> =>
  Effect.forever(Effect.suspend(() =>
    Effect.andThen(
      Effect.sleep(follower.health.available() ? follower.policy.followInterval : outagePoll),
      adoptFromStore(follower, store)
    )
  ))

/**
 * Reads the store, and adopts what it holds if it is newer than this process's and still valid (or
 * of the same generation with another token issued later: two processes obtained that generation
 * while the store was out of reach, and the platform honours the later one). A store found empty (a
 * Redis restarted without persistence) or behind this process (a token obtained while it was out
 * of reach, a fail-over to a lagging replica) is written again with this process's valid token, so
 * that the others adopt it instead of logging in. While the store is out of reach, its failures
 * are not logged again (the outage was told once).
 */
const adoptFromStore = (follower: Follower, store: BoundedStore.BoundedStore): Effect.Effect<void> =>
  Effect.gen(function*() {
    const stored = yield* (follower.health.available() ? store.read : store.probe)
    if (stored === BoundedStore.unanswered) return
    const own = follower.cell.state.entry?.stored
    if (stored === undefined || (own !== undefined && behind(stored, own))) {
      return yield* reseed(follower, store, stored)
    }
    if (!TokenState.supersedes(follower.cell.state, stored)) return
    const entry = follower.entryOf(stored, yield* Random.next)
    const at = follower.now()
    if (at >= entry.windows.expiresAt) return
    const taken = yield* follower.cell.modify((state) => TokenState.adopted(state, entry))
    if (!taken) return
    yield* Queue.offer(follower.wake, void 0)
    yield* Report.change(follower.events, {
      _tag: "Obtained",
      how: "adopted",
      reason: "proactive",
      generation: entry.access.generation,
      expiresAt: entry.windows.expiresAt,
      refreshAt: entry.windows.refreshAt,
      refreshToken: "kept",
      due: false,
      at
    })
  })

/** Whether the store's `stored` is behind this process's `own`: an older generation, or the same one issued earlier. */
const behind = (stored: StoredToken, own: StoredToken): boolean =>
  stored.generation < own.generation || TokenState.sameGenerationNewer(stored, own)

/**
 * Writes this process's token set to a store that is empty or behind it (`stored`), when its access
 * token is valid and no attempt of its own is under way (that one reads and writes the store
 * itself; its token may be the one being replaced). A store behind it is written only by
 * compare-and-set (`TokenStore.Service.commit`), above the store's generation: a blind write could
 * take the store back. Told only when written.
 */
const reseed = (
  follower: Follower,
  store: BoundedStore.BoundedStore,
  stored: StoredToken | undefined
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { state } = follower.cell
    if (state.entry === undefined || state.flight !== undefined) return
    if (TokenState.valid(state, follower.now()) === undefined) return
    if (stored !== undefined && follower.store.commit === undefined) return
    const own = state.entry.stored
    const generation = stored === undefined ? own.generation : Math.max(own.generation, stored.generation + 1)
    const written = generation === own.generation
      ? own
      : new StoredToken({ tokens: own.tokens, generation }, { disableChecks: true })
    if ((yield* store.commit(written)) !== "written") return
    yield* Report.change(follower.events, { _tag: "StoreReseeded", generation })
  })

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
import type { StoredToken, TokenStore } from "../TokenStore.js"
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
export const run = (follower: Follower): Effect.Effect<void> =>
  Effect.all([listen(follower), poll(follower)], { concurrency: "unbounded", discard: true })

/**
 * Reads the store on each announced generation that is not older than this process's (one of the
 * same generation may carry another token); subscribes again when the stream fails.
 */
const listen = (follower: Follower): Effect.Effect<void> => {
  const { changes } = follower.store
  if (changes === undefined) return Effect.void
  const follow = Stream.runForEach(
    changes,
    (generation) => generation >= follower.cell.state.generation ? adoptFromStore(follower) : Effect.void
  )
  return Effect.forever(Effect.andThen(Effect.ignoreCause(follow), Effect.sleep(resubscribePause)))
}

/** The pause between two reads of a store out of reach: a store back is read again, and seeded again, at once. */
const outagePoll = Duration.seconds(1)

/** Reads the store every `followInterval`, or every `outagePoll` while it is out of reach. */
const poll = (follower: Follower): Effect.Effect<void> =>
  Effect.forever(Effect.suspend(() =>
    Effect.andThen(
      Effect.sleep(follower.health.available() ? follower.policy.followInterval : outagePoll),
      adoptFromStore(follower)
    )
  ))

/**
 * Reads the store, and adopts what it holds if it is newer than this process's and still valid (or
 * of the same generation with another token: two processes obtained that generation while the
 * store was out of reach, and the store's is the fleet's). A store found empty (a Redis restarted
 * without persistence) or behind this process (a token obtained while it was out of reach) is
 * written again with this process's valid token, so that the others adopt it instead of logging in.
 */
const adoptFromStore = (follower: Follower): Effect.Effect<void> =>
  Effect.gen(function*() {
    const stored = yield* BoundedStore.readStoreOrUnanswered(
      follower.store,
      follower.policy.storeTimeout,
      follower.health
    )
    if (stored === BoundedStore.unanswered) return
    if (stored === undefined || stored.generation < ownGeneration(follower)) return yield* reseed(follower)
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

/** The generation of the token set this process holds (0 for none). */
const ownGeneration = (follower: Follower): number => follower.cell.state.entry?.stored.generation ?? 0

/** Writes this process's token set to an empty store, or one behind it, when its access token is valid. */
const reseed = (follower: Follower): Effect.Effect<void> => {
  const { state } = follower.cell
  if (state.entry === undefined || TokenState.valid(state, follower.now()) === undefined) return Effect.void
  const { stored } = state.entry
  return Effect.andThen(
    BoundedStore.writeStore(follower.store, follower.policy.storeTimeout, follower.health, stored),
    Report.change(follower.events, { _tag: "StoreReseeded", generation: stored.generation })
  )
}

/**
 * `withLock` as a lease per appId: a unique owner id per acquisition, taken with
 * `SET lease owner NX PX ttl`, renewed while the locked effect runs, released by compare-and-delete.
 * A lease held by another process is waited for (polled, sooner as its expiry nears) up to
 * `lockWait`, never bypassed; only an unreachable store fails at once.
 *
 * @internal
 */
import type * as CacheStore from "@iocm/cache/TokenStore"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redis from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import type { Keys } from "../TokenStore.js"
import * as Scripts from "./scripts.js"

/** A Redis call bounded by the store's command timeout, its failure a `TokenStoreError`. */
export type Bounded = <A>(
  operation: CacheStore.TokenStoreError["operation"],
  self: Effect.Effect<A, Redis.RedisError>
) => Effect.Effect<A, CacheStore.TokenStoreError>

/** What the lease needs of the store. */
export interface Settings {
  readonly redis: Redis.Redis["Service"]
  readonly keys: Keys
  readonly leaseTtl: Duration.Duration
  readonly lockWait: Duration.Duration
  readonly bounded: Bounded
  /** Fails the wait for a lease held too long by another process. */
  readonly heldTooLong: CacheStore.TokenStoreError
}

/** The first wait between two attempts on a held lease, in milliseconds; it doubles up to `longestPoll`. */
const firstPoll = 10
const longestPoll = 250

/**
 * How long to wait before attempt `attempt + 1` on a lease that has `leftMillis` to live (-1: no
 * expiry): doubling from `firstPoll` to `longestPoll`, and never past the lease's expiry.
 */
export const pollDelay = (attempt: number, leftMillis: number): number => {
  const backOff = Math.min(firstPoll * 2 ** attempt, longestPoll)
  return Math.max(1, leftMillis < 0 ? backOff : Math.min(backOff, leftMillis))
}

/** An owner id no other acquisition has: host, process and 16 random bytes. Not a secret. */
const newOwner = Effect.sync(() => `${hostname()}:${process.pid}:${randomBytes(16).toString("hex")}`)

/** Runs `self` holding the lease (see the module's comment). */
export const withLock = (settings: Settings) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const owner = yield* newOwner
    // Registered before the first attempt: a grant whose answer was lost is still released (by owner).
    yield* Effect.addFinalizer(() => release(settings, owner))
    yield* waitFor(settings, owner)
    yield* Effect.forkScoped(renewEvery(settings, owner, Duration.divideUnsafe(settings.leaseTtl, 3)))
    return yield* self
  }))

const waitFor = (settings: Settings, owner: string): Effect.Effect<void, CacheStore.TokenStoreError> => {
  const ttl = Duration.toMillis(settings.leaseTtl)
  const attempt = (n: number): Effect.Effect<void, CacheStore.TokenStoreError> =>
    Effect.flatMap(
      settings.bounded("lock", settings.redis.eval(Scripts.acquire)(settings.keys.lease, owner, ttl)),
      ([granted, leftMillis]) =>
        granted === 1 ? Effect.void : Effect.andThen(Effect.sleep(pollDelay(n, leftMillis)), attempt(n + 1))
    )
  return attempt(0).pipe(
    Effect.timeoutOrElse({ duration: settings.lockWait, orElse: () => Effect.fail(settings.heldTooLong) })
  )
}

/**
 * Extends the lease every `interval` while it is ours; an extension that fails (the store is out of
 * reach) is tried again at the next beat. A lease found lost is logged and no longer renewed: the
 * locked effect carries on, since the store's compare-and-set keeps a write of it from going back.
 */
const renewEvery = (settings: Settings, owner: string, interval: Duration.Duration): Effect.Effect<void> =>
  Effect.sleep(interval).pipe(
    Effect.andThen(
      settings.bounded(
        "lock",
        settings.redis.eval(Scripts.extend)(settings.keys.lease, owner, Duration.toMillis(settings.leaseTtl))
      )
    ),
    // Out of reach is not lost: beat again.
    Effect.catch(() => Effect.succeed(1)),
    Effect.flatMap((extended) =>
      extended === 1
        ? renewEvery(settings, owner, interval)
        : Effect.logWarning("TokenStore: the lease ran out while held; another process may refresh too")
    )
  )

/** Deletes the lease if it is still ours; a failure is left to the lease's expiry. */
const release = (settings: Settings, owner: string): Effect.Effect<void> =>
  settings.bounded("lock", settings.redis.eval(Scripts.release)(settings.keys.lease, owner, settings.keys.channel))
    .pipe(
      Effect.ignore
    )

/**
 * Where `TokenService` keeps the token state between refreshes: the latest token set (with the
 * refresh token to use next) and its generation. The default keeps it in memory; a shared store
 * (Redis, a database) lets a fleet of processes that share one appId share one token, because the
 * platform allows only one valid access token per app.
 *
 * A shared store implements `get` and `set` over the encoded `StoredToken` (it is a Schema, so
 * `Schema.encodeEffect(StoredToken)` gives plain JSON) and `withLock`, a fleet-wide critical section
 * around each login or refresh. Inside the lock `TokenService` reads the store first and adopts a
 * token another process has already obtained instead of asking the platform again.
 *
 * @since 0.1.0
 */
import { TokenSet } from "@iocm/core/TokenSet"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import * as InProcessStore from "./internal/inProcessStore.js"

/**
 * The stored state: the token set in force, whose `refreshToken` is the one to use next (kept from
 * an earlier response when the newest had none, with its original expiry), and its generation,
 * which grows by one with every access token obtained.
 *
 * @since 0.1.0
 * @category Models
 */
export class StoredToken extends Schema.Class<StoredToken>("@iocm/cache/StoredToken")({
  tokens: TokenSet,
  generation: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
}) {}

/**
 * A store could not be read, written or locked, or did not answer within
 * `RefreshPolicy.storeTimeout`. `TokenService` logs it and carries on without the store: the
 * platform stays the source of truth.
 *
 * @since 0.1.0
 * @category Errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@iocm/cache/TokenStoreError")(
  "TokenStoreError",
  {
    operation: Schema.Literals(["get", "set", "lock"]),
    description: Schema.String,
    /**
     * The lock is held by another process past the store's `lockWait` (the store is reachable):
     * `TokenService` then adopts what that process commits instead of running without the lock.
     */
    lockHeld: Schema.optional(Schema.Boolean),
    cause: Schema.optional(Schema.Defect())
  }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `TokenStoreError (${this.operation}): ${this.description}`
  }
}

/**
 * A token store.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The stored state, if any. */
  readonly get: Effect.Effect<Option.Option<StoredToken>, TokenStoreError>
  /** Replaces the stored state. */
  readonly set: (token: StoredToken) => Effect.Effect<void, TokenStoreError>
  /**
   * Runs a login or refresh inside a critical section shared by every process using the store.
   * Absent for a store private to one process, where `TokenService`'s own single flight suffices.
   */
  readonly withLock?: (<A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>) | undefined
  /**
   * How long `withLock` waits for a lock held by another process, for a store shared by a fleet.
   * When set, `TokenService` waits that long (plus `RefreshPolicy.storeTimeout`) for the lock and
   * never runs a login or refresh without it while another process holds it (a `TokenStoreError`
   * with `lockHeld: true`, or no grant in time): it adopts what that process commits, or retries
   * after a back-off. A lock that fails otherwise (the store is down) is still bypassed.
   */
  readonly lockWait?: Duration.Duration | undefined
  /**
   * The generations other processes commit, as they are announced — for a store shared by a fleet.
   * Best effort: an announcement may be lost (a reconnect, a dropped message), so `TokenService`,
   * which adopts each newer generation at once, also reads the store every
   * `RefreshPolicy.followInterval`. A stream that fails is subscribed to again after a pause.
   */
  readonly changes?: Stream.Stream<number, TokenStoreError> | undefined
  /**
   * `set` that tells whether the write was refused, for a store that writes by compare-and-set on
   * the generation (a fleet's). When a write is refused — another process committed that
   * generation or a newer one while this one's request was on the wire (its lease ran out) —
   * `TokenService` adopts what the store holds instead of the token it obtained.
   */
  readonly commit?: ((token: StoredToken) => Effect.Effect<CommitResult, TokenStoreError>) | undefined
}

/**
 * What a compare-and-set write did: written as `generation`, or refused because the store already
 * holds generation `stored`, which is not older.
 *
 * @since 0.2.0
 * @category Models
 */
export type CommitResult =
  | { readonly _tag: "Committed"; readonly generation: number }
  | { readonly _tag: "Refused"; readonly generation: number; readonly stored: number }

/**
 * The token store as a service.
 *
 * @since 0.1.0
 * @category Tags
 */
export class TokenStore extends Context.Service<TokenStore, Service>()("@iocm/cache/TokenStore") {}

/**
 * An in-memory store over a `Ref`, optionally seeded.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const makeMemory = (initial?: StoredToken | undefined): Effect.Effect<Service> =>
  Effect.map(Ref.make(Option.fromNullishOr(initial)), (ref) =>
    InProcessStore.mark({
      get: Ref.get(ref),
      set: (token: StoredToken) => Ref.set(ref, Option.some(token))
    }))

/**
 * The default store: in memory, private to this process.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory())

/**
 * An in-memory store seeded with a state, e.g. to start from a token obtained elsewhere.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerMemoryFrom = (initial: StoredToken): Layer.Layer<TokenStore> =>
  Layer.effect(TokenStore, makeMemory(initial))

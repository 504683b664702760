/**
 * The store over the `Redis` service: `get` reads and opens the record, `commit` seals it and writes
 * it by compare-and-set on the generation (publishing the generation in the same script), `set` is
 * `commit` with a refusal logged, `withLock` the lease. Every Redis call is bounded by the command
 * timeout and fails with a `TokenStoreError`, never a defect.
 *
 * @internal
 */
import * as CacheStore from "@iocm/cache/TokenStore"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redis from "effect/persistence/Redis"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import type { CommitResult, Keys, Service } from "../TokenStore.js"
import * as Envelope from "./envelope.js"
import * as Lease from "./lease.js"
import * as Scripts from "./scripts.js"

/** What the store is built from. */
export interface Settings {
  readonly redis: Redis.Redis["Service"]
  readonly appId: string
  readonly keys: Keys
  readonly codec: Envelope.Codec
  readonly leaseTtl: Duration.Duration
  readonly lockWait: Duration.Duration
  readonly commandTimeout: Duration.Duration
}

/** The store of `settings` (see the module's comment). */
export const make = (settings: Settings): Service => {
  const bounded = boundedBy(settings.commandTimeout)
  const commit = commitWith(settings, bounded)
  return {
    get: read(settings, bounded),
    commit,
    set: (token) => Effect.flatMap(commit(token), reportRefused),
    withLock: Lease.withLock({
      redis: settings.redis,
      keys: settings.keys,
      leaseTtl: settings.leaseTtl,
      lockWait: settings.lockWait,
      bounded,
      heldTooLong: new CacheStore.TokenStoreError({
        operation: "lock",
        description: `the lease is held by another process for longer than ${Duration.format(settings.lockWait)}`,
        lockHeld: true
      })
    }),
    // TokenService waits this long for a lease held elsewhere, and never runs without it then.
    lockWait: settings.lockWait,
    changes: announcedGenerations(settings)
  }
}

/** The generations announced on the app's channel (`c:<generation>`, published by every commit). */
const announcedGenerations = (settings: Settings): Stream.Stream<number, CacheStore.TokenStoreError> =>
  Stream.unwrap(Effect.map(settings.redis.subscribe(settings.keys.channel), Stream.fromQueue)).pipe(
    Stream.filter((message) => /^c:\d+$/.test(message.message)),
    Stream.map((message) => Number(message.message.slice(2))),
    Stream.mapError((error) => storeError("get", `Redis failed: ${describe(error)}`, error))
  )

const storeError = (operation: CacheStore.TokenStoreError["operation"], description: string, cause?: unknown) =>
  new CacheStore.TokenStoreError(cause === undefined ? { operation, description } : { operation, description, cause })

/** What went wrong in Redis, in its words (node-redis errors carry no command arguments). */
const describe = (error: Redis.RedisError): string =>
  error.cause instanceof Error ? error.cause.message : String(error.cause)

const boundedBy = (timeout: Duration.Duration): Lease.Bounded => (operation, self) =>
  self.pipe(
    Effect.mapError((error) => storeError(operation, `Redis failed: ${describe(error)}`, error)),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.fail(storeError(operation, `Redis did not answer within ${Duration.format(timeout)}`))
    })
  )

const decodeStored = Schema.decodeUnknownEffect(Schema.fromJsonString(CacheStore.StoredToken))
const encodeStored = Schema.encodeEffect(Schema.fromJsonString(CacheStore.StoredToken))

const read = (
  settings: Settings,
  bounded: Lease.Bounded
): Effect.Effect<Option.Option<CacheStore.StoredToken>, CacheStore.TokenStoreError> =>
  bounded("get", settings.redis.send<[string | null, string | null]>("HMGET", settings.keys.token, "gen", "record"))
    .pipe(
      Effect.flatMap(([generation, record]) =>
        generation === null || record === null
          ? Effect.succeed(Option.none())
          : Effect.map(openRecord(settings, Number(generation), record), Option.some)
      )
    )

/** The stored token of `record`, written as `generation`; one that does not open or decode is a `TokenStoreError`. */
const openRecord = (
  settings: Settings,
  generation: number,
  record: string
): Effect.Effect<CacheStore.StoredToken, CacheStore.TokenStoreError> =>
  Result.match(Envelope.open(settings.codec, record, Envelope.associatedData(settings.appId, generation)), {
    onFailure: (reason) => Effect.fail(storeError("get", reason)),
    onSuccess: (json) =>
      decodeStored(json).pipe(
        // The schema's message would quote the record: say only what is wrong.
        Effect.mapError(() => storeError("get", "the record does not decode as a StoredToken")),
        Effect.filterOrFail(
          (stored) => stored.generation === generation,
          () => storeError("get", `the record's generation is not the stored one (${generation})`)
        )
      )
  })

const commitWith = (settings: Settings, bounded: Lease.Bounded) =>
(
  token: CacheStore.StoredToken
): Effect.Effect<CommitResult, CacheStore.TokenStoreError> =>
  Effect.gen(function*() {
    const json = yield* encodeStored(token).pipe(
      Effect.mapError(() => storeError("set", "the token does not encode as a StoredToken"))
    )
    const aad = Envelope.associatedData(settings.appId, token.generation)
    const record = Envelope.seal(settings.codec, json, aad, randomBytes(Envelope.ivLength))
    const [written, generation] = yield* bounded(
      "set",
      settings.redis.eval(Scripts.commit)(settings.keys.token, token.generation, record, settings.keys.channel)
    )
    return written === 1
      ? { _tag: "Committed", generation } as const
      : { _tag: "Refused", generation: token.generation, stored: generation } as const
  })

/** A refused write loses nothing (the store holds a newer generation): it is logged, not failed. */
const reportRefused = (result: CommitResult): Effect.Effect<void> =>
  result._tag === "Committed" ? Effect.void : Effect.logWarning(
    `TokenStore: the write of generation ${result.generation} was refused: the store holds generation ${result.stored}`
  )

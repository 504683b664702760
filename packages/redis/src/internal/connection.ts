/**
 * A `Redis` service that connects in the background: the layer is built whether or not Redis
 * answers, so that an app started while Redis is out of reach still starts (its `TokenService`
 * runs its own flight meanwhile, as during any outage). The first connection is waited for a
 * moment; until one is made, every command fails at once with a `RedisError` and a subscription
 * waits for it. Each try has a scope of its own, closed when it fails: nothing piles up while
 * Redis stays away. Once connected, node-redis reconnects by itself.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redis from "effect/persistence/Redis"
import * as References from "effect/References"
import * as Scope from "effect/Scope"

/**
 * node-redis's wait before its `retries + 1`-th try of a lost connection, in milliseconds: doubling
 * from 50 ms to 500 ms, plus up to 100 ms of jitter so that a fleet does not reconnect in step.
 * Always a number: node-redis keeps trying, the first connection included.
 */
export const reconnectDelay = (retries: number): number =>
  Math.min(50 * 2 ** retries, 500) + Math.floor(Math.random() * 100)

/** The wait after the `attempt`-th failed try of the first connection (one node-redis gave up): doubling from 100 ms, at most 2 s. */
const retryDelay = (attempt: number): Duration.Duration => Duration.millis(Math.min(100 * 2 ** attempt, 2_000))

/** What a command sent before the first connection fails with. */
const notConnected = new Redis.RedisError({
  cause: new Error("not connected to Redis yet (connecting in the background)")
})

/** One try of `connection`, in a scope of its own under `parent` that is closed if it fails. */
const tryConnect = (
  connection: Layer.Layer<Redis.Redis, Redis.RedisError>,
  parent: Scope.Scope
): Effect.Effect<Redis.Redis["Service"], Redis.RedisError> =>
  Effect.flatMap(Scope.fork(parent, "sequential"), (scope) =>
    Layer.buildWithScope(connection, scope).pipe(
      // Its warning for every failed try would repeat what the token service reports once.
      Effect.provideService(References.MinimumLogLevel, "Error"),
      Effect.map(Context.get(Redis.Redis)),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    ))

/**
 * The `Redis` service over `connection`, connected in the background for the life of the scope;
 * the first connection is waited for up to `firstWait`.
 */
export const make = (
  connection: Layer.Layer<Redis.Redis, Redis.RedisError>,
  firstWait: Duration.Duration
): Effect.Effect<Redis.Redis["Service"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const connected = yield* Deferred.make<Redis.Redis["Service"]>()
    let current: Redis.Redis["Service"] | undefined
    const untilConnected = (attempt: number): Effect.Effect<void> =>
      tryConnect(connection, scope).pipe(
        Effect.matchEffect({
          onFailure: (error) =>
            Effect.andThen(
              attempt === 0 ? Effect.logWarning("Redis refused the connection; trying again", error) : Effect.void,
              Effect.andThen(Effect.sleep(retryDelay(attempt)), untilConnected(attempt + 1))
            ),
          onSuccess: (redis) => {
            current = redis
            return Deferred.succeed(connected, redis)
          }
        })
      )
    yield* Effect.forkIn(untilConnected(0), scope)
    const first = yield* Effect.timeoutOption(Deferred.await(connected), firstWait)
    if (Option.isNone(first)) {
      yield* Effect.logWarning(
        `Redis did not answer within ${Duration.format(firstWait)}; connecting in the background meanwhile`
      )
    }
    const whenConnected = <A>(use: (redis: Redis.Redis["Service"]) => Effect.Effect<A, Redis.RedisError>) =>
      Effect.suspend(() => current === undefined ? Effect.fail(notConnected) : use(current))
    return Redis.Redis.of({
      send: (command, ...args) => whenConnected((redis) => redis.send(command, ...args)),
      eval: (script) => (...params) => whenConnected((redis) => redis.eval(script)(...params)),
      subscribe: (channel) => Effect.flatMap(Deferred.await(connected), (redis) => redis.subscribe(channel)),
      reserve: Effect.suspend(() => current === undefined ? Effect.fail(notConnected) : current.reserve)
    })
  })

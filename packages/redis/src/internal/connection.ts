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
import * as Cause from "effect/Cause"
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
 * from 50 ms to 250 ms, plus up to 50 ms of jitter so that a fleet does not reconnect in step — a
 * Redis back from a restart is found within a third of a second, before the fleet's tokens need it
 * (a try on a server that is down costs a refused connection). Always a number: node-redis keeps
 * trying, the first connection included.
 */
export const reconnectDelay = (retries: number): number =>
  Math.min(50 * 2 ** retries, 250) + Math.floor(Math.random() * 50)

/** How node-redis is told to reconnect: `(retries, cause) => delay`, `cause` the failure. */
export type ReconnectStrategy = (retries: number, cause: Error) => number

/**
 * The wait after the `attempt`-th failed try that node-redis did not retry itself (a handshake it
 * gave up on, a client that could not be made): doubling from 100 ms, at most 2 s.
 */
const retryDelay = (attempt: number): Duration.Duration => Duration.millis(Math.min(100 * 2 ** attempt, 2_000))

/** How long the same failure is not told again. */
const repeatAfterMillis = 60_000

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
      // Its own warning for every failed try would bury the failures `teller` tells once.
      Effect.provideService(References.MinimumLogLevel, "Error"),
      Effect.map(Context.get(Redis.Redis)),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    ))

/**
 * Tells each failure to connect as a warning — a new one at once, the same one again after
 * `repeatAfterMillis` — so that a wrong password, a TLS or DNS failure is seen without a line per
 * retry. Callable from node-redis's callbacks (it runs the log line in `context`).
 */
const teller = (context: Context.Context<never>) => {
  const run = Effect.runForkWith(context)
  let last: { readonly message: string; readonly at: number } | undefined
  return (what: string): void => {
    const at = Date.now()
    if (last !== undefined && last.message === what && at - last.at < repeatAfterMillis) return
    last = { message: what, at }
    run(Effect.logWarning(`Redis connection failed, trying again: ${what}`))
  }
}

/** The words of a failure to connect (node-redis's errors carry no credentials). */
const describe = (cause: unknown): string =>
  cause instanceof Redis.RedisError ? describe(cause.cause) : cause instanceof Error ? cause.message : String(cause)

/**
 * The `Redis` service over the connection `connect` builds with the reconnect strategy it is given,
 * connected in the background for the life of the scope; the first connection is waited for up to
 * `firstWait`.
 */
export const make = (
  connect: (reconnectStrategy: ReconnectStrategy) => Layer.Layer<Redis.Redis, Redis.RedisError>,
  firstWait: Duration.Duration
): Effect.Effect<Redis.Redis["Service"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const tell = teller(yield* Effect.context<never>())
    const connection = connect((retries, cause) => {
      tell(describe(cause))
      return reconnectDelay(retries)
    })
    const connected = yield* Deferred.make<Redis.Redis["Service"]>()
    let current: Redis.Redis["Service"] | undefined
    const untilConnected = (attempt: number): Effect.Effect<void> =>
      tryConnect(connection, scope).pipe(
        Effect.matchCauseEffect({
          onFailure: (cause) =>
            Effect.andThen(
              Effect.sync(() => tell(describe(Cause.squash(cause)))),
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

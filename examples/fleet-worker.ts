/**
 * `pnpm example fleet-worker`: one worker of a fleet — several processes of one app sharing one
 * access token through Redis (`@iocm/redis`). It calls the business endpoint every
 * `IOCM_FLEET_INTERVAL` (default `200 millis`) for `IOCM_DEMO_DURATION` (default `20 seconds`) and
 * prints, as its last line on stdout, one JSON object:
 * `{"ok": true, "calls": N, "failures": N, "tokens": ["****abcd", …], "lastFailureAt": null}` — every
 * distinct access token it used, masked to its last 4 characters, and when its last failed call
 * ended (epoch milliseconds, or null); each token event (logged in, refreshed, adopted…) is a line
 * before it.
 *
 * It needs a platform the whole fleet shares (`IOCM_BASE_URL`, `IOCM_APP_ID`, `IOCM_SECRET`, the TLS
 * variables; e.g. `pnpm simulator`), `IOCM_REDIS_URL` and `IOCM_STORE_KEY` (32 random bytes, base64:
 * `openssl rand -base64 32`). `IOCM_FLEET_STORE=memory` gives each worker a private store instead,
 * to see the processes invalidate each other's tokens.
 *
 * With `IOCM_FLOW_LIMIT` set (and optionally `IOCM_FLOW_WINDOW`, `IOCM_FLOW_MARGIN`), the calls go
 * through `FlowControl.limited`: one budget for the whole fleet, counted in the same Redis (in
 * memory with `IOCM_FLEET_STORE=memory`); a call waits for a free slot instead of being refused.
 */
import { FlowControl, TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import * as IocmConfig from "@iocm/core/IocmConfig"
import { RateLimit, TokenStore as RedisStore } from "@iocm/redis"
import { Config, Console, Duration, Effect, Layer, Option, Redacted, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Platform from "./src/Platform.js"
import * as TokenLoop from "./src/TokenLoop.js"

/** What a worker did. */
interface Tally {
  calls: number
  failures: number
  lastFailureAt: number | null
  readonly tokens: Set<string>
}

/** One business call with the current token; a call that does not end in 200 is a failure. */
const call = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  tally: Tally
): Effect.Effect<void, never, TokenService.TokenService | R> =>
  Effect.gen(function*() {
    tally.calls++
    const { token } = yield* TokenService.get.pipe(Effect.orDie)
    tally.tokens.add(Platform.mask(Redacted.value(token)))
    const status = yield* client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
      Effect.map((response) => response.status),
      Effect.orElseSucceed(() => 0)
    )
    if (status !== 200) failed(tally)
  }).pipe(Effect.catchDefect(() => Effect.sync(() => failed(tally))))

/** Counts a failed call. */
const failed = (tally: Tally): void => {
  tally.failures++
  tally.lastFailureAt = Date.now()
}

/** Where the fleet shares its token and budget: `IOCM_FLEET_STORE`, `redis` (default) or `memory` (each process its own). */
const fleetStore = Config.Literals(["redis", "memory"], "IOCM_FLEET_STORE").pipe(Config.withDefault("redis" as const))

/** The fleet's store on Redis, or (`IOCM_FLEET_STORE=memory`) one private to this process. */
const StoreLive = Layer.unwrap(
  Effect.map(fleetStore, (store) => store === "memory" ? TokenStore.layerMemory : RedisStore.layerRedisConfig())
)

/** Calls the business endpoint through `client` every `IOCM_FLEET_INTERVAL` for `IOCM_DEMO_DURATION`, then reports. */
const callFor = <E, R>(client: HttpClient.HttpClient.With<E, R>) =>
  Effect.gen(function*() {
    const duration = yield* IocmConfig.duration("IOCM_DEMO_DURATION").pipe(Config.withDefault(Duration.seconds(20)))
    const interval = yield* IocmConfig.duration("IOCM_FLEET_INTERVAL").pipe(Config.withDefault(Duration.millis(200)))
    const tally: Tally = { calls: 0, failures: 0, lastFailureAt: null, tokens: new Set() }
    const until = Date.now() + Duration.toMillis(duration)
    while (Date.now() < until) {
      yield* call(client, tally)
      yield* Effect.sleep(interval)
    }
    yield* Console.log(
      JSON.stringify({
        ok: tally.failures === 0,
        calls: tally.calls,
        failures: tally.failures,
        tokens: [...tally.tokens],
        lastFailureAt: tally.lastFailureAt
      })
    )
  })

/** The fleet's call budget: in the same Redis as the token, or (`IOCM_FLEET_STORE=memory`) this process's own. */
const FlowLive = Layer.unwrap(
  Effect.map(
    fleetStore,
    (store) => store === "memory" ? FlowControl.layerMemoryConfig() : RateLimit.layerRedisConfig()
  )
)

const program = Effect.gen(function*() {
  const config = yield* PlatformConfig.PlatformConfig
  const transport = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl))
  )
  yield* TokenService.changes.pipe(
    Stream.runForEach((event) => Console.log(TokenLoop.describeEvent(event))),
    Effect.forkChild
  )
  const flowLimit = yield* Config.Int("IOCM_FLOW_LIMIT").pipe(Config.option)
  return yield* Option.isSome(flowLimit)
    ? callFor(transport.pipe(FlowControl.limited, TokenService.authenticated)).pipe(Effect.provide(FlowLive))
    : callFor(transport.pipe(TokenService.authenticated))
})

const MainLive = TokenService.layerConfig().pipe(
  Layer.provide(StoreLive),
  Layer.provideMerge(IocmAuth.layer),
  Layer.provideMerge(Platform.layerConfigured)
)

// The JSON line is the output: the service's own log lines go to stderr only when they are warnings.
Platform.runQuietly(program.pipe(Effect.provide(MainLive)))

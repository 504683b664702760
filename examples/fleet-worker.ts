/**
 * `pnpm example fleet-worker`: one worker of a fleet — several processes of one app sharing one
 * access token through Redis (`@iocm/redis`). It calls the business endpoint every
 * `IOCM_FLEET_INTERVAL` (default `200 millis`) for `IOCM_DEMO_DURATION` (default `20 seconds`) and
 * prints, as its last line on stdout, one JSON object:
 * `{"ok": true, "calls": N, "failures": N, "tokens": ["****abcd", …]}` — every distinct access token
 * it used, masked to its last 4 characters; each token event (logged in, refreshed, adopted…) is a
 * line before it.
 *
 * It needs a platform the whole fleet shares (`IOCM_BASE_URL`, `IOCM_APP_ID`, `IOCM_SECRET`, the TLS
 * variables; e.g. `pnpm simulator`), `IOCM_REDIS_URL` and `IOCM_STORE_KEY` (32 random bytes, base64:
 * `openssl rand -base64 32`). `IOCM_FLEET_STORE=memory` gives each worker a private store instead,
 * to see the processes invalidate each other's tokens.
 */
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import * as IocmConfig from "@iocm/core/IocmConfig"
import { TokenStore as RedisStore } from "@iocm/redis"
import { Config, Console, Duration, Effect, Layer, Redacted, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Platform from "./src/Platform.js"
import * as TokenLoop from "./src/TokenLoop.js"

/** What a worker did. */
interface Tally {
  calls: number
  failures: number
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
    if (status !== 200) tally.failures++
  }).pipe(Effect.catchDefect(() => Effect.sync(() => void tally.failures++)))

const program = Effect.gen(function*() {
  const duration = yield* IocmConfig.duration("IOCM_DEMO_DURATION").pipe(Config.withDefault(Duration.seconds(20)))
  const interval = yield* IocmConfig.duration("IOCM_FLEET_INTERVAL").pipe(Config.withDefault(Duration.millis(200)))
  const config = yield* PlatformConfig.PlatformConfig
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated
  )
  const tally: Tally = { calls: 0, failures: 0, tokens: new Set() }
  yield* TokenService.changes.pipe(
    Stream.runForEach((event) => Console.log(TokenLoop.describeEvent(event))),
    Effect.forkChild
  )
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
      tokens: [...tally.tokens]
    })
  )
})

/** The fleet's store on Redis, or (`IOCM_FLEET_STORE=memory`) one private to this process. */
const StoreLive = Layer.unwrap(
  Effect.map(
    Config.Literals(["redis", "memory"], "IOCM_FLEET_STORE").pipe(Config.withDefault("redis" as const)),
    (store) => store === "memory" ? TokenStore.layerMemory : RedisStore.layerRedisConfig()
  )
)

const MainLive = TokenService.layerConfig().pipe(
  Layer.provide(StoreLive),
  Layer.provideMerge(IocmAuth.layer),
  Layer.provideMerge(Platform.layerConfigured)
)

// The JSON line is the output: the service's own log lines go to stderr only when they are warnings.
Platform.runQuietly(program.pipe(Effect.provide(MainLive)))

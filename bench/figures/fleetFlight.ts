/**
 * Fleet flight: five `TokenService`s of one app sharing `@iocm/redis` on a real `redis-server`
 * (started and stopped here), against the simulator over HTTPS with 2-second tokens, for eight
 * token lifetimes. Each service has its own Redis connections, store and lease owner — five
 * processes' worth — but they run in this one process, so that one clock times them all.
 *
 * - **Token requests per token**: the token requests the simulator answered (logins and refreshes,
 *   refused ones included) over the tokens the fleet obtained from them. Target exactly 1.00: each
 *   token is asked for once, by one process; a ping-pong, a refused refresh token or a token
 *   obtained twice makes it more. Requests per token lifetime are reported beside it.
 * - **Follower adoption latency**: for each token the fleet obtained, from the moment its owner
 *   reported it (`Refreshed` / `LoggedIn`, just after its commit) until each other service reported
 *   adopting it (`Adopted`), p50 and p99 — reported.
 *
 * Skipped when `redis-server` is not installed.
 */
import type * as TokenEvent from "@iocm/cache/TokenEvent"
import * as TokenService from "@iocm/cache/TokenService"
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as IocmHttp from "@iocm/http/IocmHttp"
import * as RedisStore from "@iocm/redis/TokenStore"
import * as Simulator from "@iocm/simulator/Simulator"
import * as RedisServer from "@iocm/testing/Redis"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import type { Figure, FigureResult } from "../harness.js"
import { median, now, progress, quantile, round, skipped } from "../harness.js"
import { quiet } from "../support.js"

const SERVICES = 5
const LIFETIME_SECONDS = 2
const LIFETIMES = 8

const row = {
  name: "fleet flight",
  unit: "requests",
  ratioDefinition: "token requests answered / tokens the fleet obtained",
  target: "exactly 1.00 token request per token"
}

export const figure: Figure = {
  id: "fleet-flight",
  run: Effect.suspend(() =>
    RedisServer.serverAvailable()
      ? Effect.scoped(measure)
      : Effect.succeed(skipped(row, "redis-server is not installed"))
  )
}

/** A token event of one service, and when it arrived. */
interface Seen {
  readonly service: number
  readonly event: TokenEvent.TokenEvent
  readonly at: number
}

/** The generation a token event obtained from the platform or adopted, if it is one of those. */
const obtained = (
  event: TokenEvent.TokenEvent
): { readonly generation: number; readonly adopted: boolean } | undefined =>
  event._tag === "Refreshed" || event._tag === "LoggedIn"
    ? { generation: event.generation, adopted: false }
    : event._tag === "Adopted"
    ? { generation: event.generation, adopted: true }
    : undefined

/** For each generation a service obtained, the milliseconds until each other service adopted it. */
const adoptionLatencies = (seen: ReadonlyArray<Seen>): Array<number> => {
  const owners = new Map<number, Seen>()
  for (const entry of seen) {
    const got = obtained(entry.event)
    if (got !== undefined && !got.adopted && !owners.has(got.generation)) owners.set(got.generation, entry)
  }
  const latencies: Array<number> = []
  for (const entry of seen) {
    const got = obtained(entry.event)
    const owner = got?.adopted === true ? owners.get(got.generation) : undefined
    if (owner !== undefined && owner.service !== entry.service) latencies.push(entry.at - owner.at)
  }
  return latencies
}

/** All the token requests the simulator answered, whatever the outcome. */
const answered = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((sum, count) => sum + count, 0)

const measure = Effect.gen(function*() {
  yield* progress(
    `fleet flight: ${SERVICES} services sharing Redis, ${LIFETIMES} lifetimes of ${LIFETIME_SECONDS}-second tokens`
  )
  const redis = yield* RedisServer.server
  const simulator = yield* Simulator.make({
    tokenLifetime: `${LIFETIME_SECONDS} seconds`,
    rateLimit: { limit: 1_000_000 }
  })
  const platform = PlatformConfig.layer({
    baseUrl: simulator.baseUrl,
    appId: simulator.app.appId,
    secret: simulator.app.secret
  })
  const key = Redacted.make(randomBytes(32).toString("base64"))
  const serviceLayer = TokenService.layer().pipe(
    Layer.provide(Layer.merge(
      RedisStore.layerRedis({ url: redis.url, key }),
      IocmAuth.layer.pipe(Layer.provide(IocmHttp.layer({ ca: simulator.ca })))
    )),
    Layer.provide(platform),
    Layer.provide(quiet)
  )
  const seen: Array<Seen> = []
  yield* Effect.forEach(Array.from({ length: SERVICES }, (_, service) => service), (service) =>
    Effect.gen(function*() {
      const tokens = Context.get(yield* Layer.build(serviceLayer), TokenService.TokenService)
      yield* Stream.runForEach(tokens.changes, (event) => Effect.sync(() => seen.push({ service, event, at: now() })))
        .pipe(Effect.forkScoped)
      yield* tokens.get
    }), { concurrency: "unbounded", discard: true })
  yield* Effect.sleep(`${LIFETIME_SECONDS * LIFETIMES} seconds`)
  const counters = yield* simulator.counters
  const requests = answered(counters.requests.login) + answered(counters.requests.refresh)
  const tokensObtained = new Set(
    seen.flatMap((entry) => {
      const got = obtained(entry.event)
      return got === undefined || got.adopted ? [] : [got.generation]
    })
  ).size
  const latencies = adoptionLatencies(seen)
  const ratio = requests / Math.max(1, tokensObtained)
  const result: FigureResult = {
    ...row,
    ours: requests,
    baseline: tokensObtained,
    ratio: round(ratio, 3),
    measured: `${requests} requests for ${tokensObtained} tokens; adoption p50 ${round(median(latencies), 3)} ms, p99 ${
      round(quantile(latencies, 0.99), 3)
    } ms`,
    pass: ratio === 1,
    rounds: 1,
    details: {
      services: SERVICES,
      tokenLifetimeSeconds: LIFETIME_SECONDS,
      lifetimes: LIFETIMES,
      logins: counters.logins,
      refreshes: counters.refreshes,
      requestsPerLifetime: round(requests / LIFETIMES, 3),
      adoptions: latencies.length,
      adoptionMillis: {
        p50: round(median(latencies), 3),
        p99: round(quantile(latencies, 0.99), 3),
        max: round(Math.max(...latencies), 3)
      }
    }
  }
  return result
})

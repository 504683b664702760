/**
 * `pnpm demo`: a tour against the embedded simulator (HTTPS, test CA) that ends by itself.
 *
 * 1. `IocmAuth`: log in, refresh (the refresh token rotates), call the business endpoint with the
 *    token, and see the platform refuse the previous access token (one valid token per app).
 * 2. `TokenService`: about 20 seconds with a 5-second token lifetime, calling the business
 *    endpoint every second while the service refreshes in the background.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { Simulator } from "@iocm/simulator"
import { Console, Duration, Effect, Layer, Option, Redacted, References } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Platform from "./src/Platform.js"
import * as TokenLoop from "./src/TokenLoop.js"

const show = (token: Redacted.Redacted<string>) => Platform.mask(Redacted.value(token))

const callDevices = (token: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const config = yield* PlatformConfig.PlatformConfig
    const client = yield* HttpClient.HttpClient
    return yield* client.execute(
      HttpClientRequest.get(`${config.baseUrl}${Wire.devicesPath}`, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
        HttpClientRequest.setHeader(config.appKeyHeader, config.appId),
        HttpClientRequest.bearerToken(token)
      )
    )
  })

const tour = Effect.gen(function*() {
  const simulator = yield* Simulator.Simulator
  const auth = yield* IocmAuth.IocmAuth
  yield* Console.log(`Simulator at ${simulator.baseUrl} (HTTPS with its test-only CA), app ${simulator.app.appId}\n`)

  yield* Console.log("1. IocmAuth: the protocol, one request per call")
  const first = yield* auth.login
  yield* Console.log(
    `   login      -> access token ${show(first.accessToken)}, ${first.tokenType}, expires in ${first.expiresIn} s`
  )
  const second = yield* auth.refresh(Option.getOrThrow(first.refreshToken))
  yield* Console.log(
    `   refresh    -> access token ${show(second.accessToken)}, refresh token rotated: ${
      show(Option.getOrThrow(first.refreshToken)) !== show(Option.getOrThrow(second.refreshToken))
    }`
  )
  const fresh = yield* callDevices(second.accessToken)
  yield* Console.log(`   GET devices with the new token -> ${fresh.status} ${JSON.stringify(yield* fresh.json)}`)
  const stale = yield* callDevices(first.accessToken)
  yield* Console.log(`   GET devices with the old token -> ${stale.status} ${JSON.stringify(yield* stale.json)}`)
  const reused = yield* Effect.flip(auth.refresh(Option.getOrThrow(first.refreshToken)))
  yield* Console.log(`   refresh with the used refresh token -> ${reused._tag} (${reused.code})\n`)
})

const tokenService = Effect.gen(function*() {
  yield* Console.log("2. TokenService: 20 seconds of business calls, tokens living 5 seconds")
  const summary = yield* TokenLoop.run(Option.some(Duration.seconds(20)))
  const counters = yield* (yield* Simulator.Simulator).counters
  yield* Console.log(
    `\n${summary.succeeded} of ${summary.calls} business calls succeeded; the platform saw ${counters.logins} logins and ${counters.refreshes} refreshes in all.`
  )
})

const PlatformLive = Platform.layerEmbedded({ tokenLifetime: "5 seconds" })

const TokensLive = TokenService.layer({ refreshLead: "2 seconds", jitter: "500 millis", forcedWindow: "1 second" })
  .pipe(
    Layer.provide(TokenStore.layerMemory)
  )

const program = tour.pipe(
  Effect.andThen(tokenService.pipe(Effect.provide(TokensLive))),
  Effect.provide(IocmAuth.layer.pipe(Layer.provideMerge(PlatformLive))),
  Effect.provide(Platform.environment),
  Effect.provideService(References.MinimumLogLevel, "Warn")
)

NodeRuntime.runMain(program, { teardown: Platform.teardown })

/**
 * The whole client stack on top of `@iocm/simulator`: HTTPS with mutual TLS, `IocmAuth`,
 * `TokenService`, and the authenticated client to the simulator's business API.
 */
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { Simulator } from "@iocm/simulator"
import * as Logs from "@iocm/testing/Logs"
import { Effect, Layer } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type * as RefreshPolicy from "../../src/RefreshPolicy.js"
import * as TokenService from "../../src/TokenService.js"
import * as TokenStore from "../../src/TokenStore.js"

/**
 * The simulator, and on top of it the whole client stack: HTTPS with mTLS, IocmAuth, TokenService.
 * No logger: the service's and the simulator's log lines are dropped, for the test using the stack
 * and every fiber the stack forks.
 */
export const stack = (options: Simulator.SimulatorOptions, policy?: RefreshPolicy.Options) =>
  Layer.unwrap(Effect.gen(function*() {
    const sim = yield* Simulator.Simulator
    const http = IocmHttp.layer({ ca: sim.ca, cert: sim.clientCert, key: sim.clientKey })
    const config = PlatformConfig.layer({ baseUrl: sim.baseUrl, appId: sim.app.appId, secret: sim.app.secret })
    const auth = IocmAuth.layer.pipe(Layer.provide(Layer.merge(http, config)))
    const tokens = TokenService.layer(policy).pipe(Layer.provide(Layer.merge(auth, TokenStore.layerMemory)))
    return Layer.mergeAll(tokens, config, http)
  })).pipe(
    Layer.provideMerge(
      Simulator.layer({ tls: { mutual: true }, rateLimit: { limit: 1_000_000 }, ...options })
    ),
    Layer.provideMerge(Logs.silent)
  )

/** The authenticated client to the simulator's business API. */
export const client = Effect.gen(function*() {
  const config = yield* PlatformConfig.PlatformConfig
  return (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated
  )
})

/** The first page of the business API's device list. */
export const devices = `${Wire.devicesPath}?pageNo=0&pageSize=10`

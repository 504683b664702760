/**
 * The README's quick start, which the typecheck compiles: a `TokenService` keeping the token, and a
 * business call signed with it, against the platform named by the `IOCM_*` variables. Keep the
 * README's block equal to this file from the first import down.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { ConfigProvider, Console, Effect, Layer } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"

const program = Effect.gen(function*() {
  const config = yield* PlatformConfig.PlatformConfig
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated, // app key + a valid access token; replayed once if the platform refuses it
    HttpClient.filterStatusOk
  )
  const response = yield* client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } })
  yield* Console.log(yield* response.json)
})

// IOCM_BASE_URL, IOCM_APP_ID, IOCM_SECRET and the TLS files (IOCM_CA_FILE, IOCM_PFX_FILE, …)
const MainLive = TokenService.layer().pipe(
  Layer.provide(TokenStore.layerMemory),
  Layer.provide(IocmAuth.layer),
  Layer.provideMerge(Layer.merge(PlatformConfig.layerConfig(), IocmHttp.layerConfig())),
  Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ preserveEmptyStrings: true })))
)

NodeRuntime.runMain(program.pipe(Effect.provide(MainLive)))

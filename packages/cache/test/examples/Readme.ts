/**
 * The README's snippet, typechecked, and run against the simulator by `EndToEnd.test.ts`.
 */
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { Effect, Layer } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"

// A business call: signed with the app key and the current token, replayed once if the platform
// refused the token. Status filters go after `authenticated`, so that it sees the 403 first.
export const listDevices = Effect.gen(function*() {
  const config = yield* PlatformConfig.PlatformConfig
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated,
    HttpClient.filterStatusOk
  )
  const response = yield* client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } })
  return yield* response.json
})

// Anywhere else: a valid access token, with no I/O while it is fresh.
export const whoAmI = Effect.gen(function*() {
  const { expiresAt, generation } = yield* TokenService.get
  yield* Effect.log(`token #${generation}, valid until ${new Date(expiresAt).toISOString()}`)
})

// IOCM_BASE_URL, IOCM_APP_ID, IOCM_SECRET, IOCM_CA_FILE, IOCM_CERT_FILE, IOCM_KEY_FILE...
export const MainLive = TokenService.layer({ refreshLead: "10 minutes", jitter: "2 minutes" }).pipe(
  Layer.provide(TokenStore.layerMemory),
  Layer.provide(IocmAuth.layer),
  Layer.provideMerge(Layer.merge(PlatformConfig.layerConfig(), IocmHttp.layerConfig()))
)

// NodeRuntime.runMain(Effect.andThen(whoAmI, listDevices).pipe(Effect.provide(MainLive)))

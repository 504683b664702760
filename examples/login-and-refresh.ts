/**
 * The smallest use of `@iocm/core`: log in, then refresh once, against the platform named by
 * `IOCM_BASE_URL`, `IOCM_APP_ID` and `IOCM_SECRET`, over `@iocm/http`'s client (TLS from
 * `IOCM_CA_FILE`, `IOCM_CERT_FILE`, `IOCM_KEY_FILE`…). This is the snippet of the README; the
 * typecheck compiles it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { IocmAuth, PlatformConfig } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { ConfigProvider, Console, Effect, Layer, Option } from "effect"

const program = Effect.gen(function*() {
  const auth = yield* IocmAuth.IocmAuth
  const first = yield* auth.login
  yield* Console.log(`logged in; the access token expires at ${new Date(first.expiresAt).toISOString()}`)
  if (Option.isSome(first.refreshToken)) {
    const second = yield* auth.refresh(first.refreshToken.value)
    yield* Console.log(`refreshed; the access token expires at ${new Date(second.expiresAt).toISOString()}`)
  }
}).pipe(
  Effect.catchTags({
    InvalidCredentials: (error) => Console.error(`check IOCM_APP_ID and IOCM_SECRET: ${error.message}`),
    TransportError: (error) => Console.error(`the platform could not be reached: ${error.message}`)
  })
)

// Effect 4's default provider reads `IOCM_SECRET=` as unset; this one keeps it empty, so iocm refuses it.
const Environment = ConfigProvider.layer(ConfigProvider.fromEnv({ preserveEmptyStrings: true }))

const MainLive = IocmAuth.layer.pipe(
  Layer.provide(Layer.merge(PlatformConfig.layerConfig(), IocmHttp.layerConfig())),
  Layer.provide(Environment)
)

NodeRuntime.runMain(program.pipe(Effect.provide(MainLive)))

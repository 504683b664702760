/**
 * `pnpm example token-service`: a long-running program whose `TokenService` keeps the access token
 * fresh while it calls the business endpoint every second, printing each call and each refresh.
 *
 * Against the embedded simulator (when `IOCM_BASE_URL` is unset) tokens live 5 seconds
 * (`IOCM_DEMO_TOKEN_LIFETIME`), so refreshes come every few seconds; against a real platform
 * (`IOCM_*` variables, see the README) the policy comes from `IOCM_REFRESH_LEAD` & co. It runs
 * until Ctrl-C, or for `IOCM_DEMO_DURATION` (e.g. `20 seconds`) when set.
 */
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth } from "@iocm/core"
import { Config, Console, Effect, Layer } from "effect"
import * as Platform from "./src/Platform.js"
import * as TokenLoop from "./src/TokenLoop.js"

const program = Effect.gen(function*() {
  const duration = yield* Config.option(Config.Duration("IOCM_DEMO_DURATION"))
  const summary = yield* TokenLoop.run(duration)
  yield* Console.log(`${summary.succeeded} of ${summary.calls} business calls succeeded`)
})

const MainLive = Layer.unwrap(Effect.gen(function*() {
  const tokenLifetime = yield* Config.Duration("IOCM_DEMO_TOKEN_LIFETIME").pipe(Config.withDefault("5 seconds"))
  return TokenService.layerConfig().pipe(
    Layer.provide(TokenStore.layerMemory),
    Layer.provideMerge(IocmAuth.layer),
    Layer.provideMerge(Platform.layer({ tokenLifetime }))
  )
}))

// The token events are printed by the loop; the service's own log lines would repeat them.
Platform.runQuietly(program.pipe(Effect.provide(MainLive)))

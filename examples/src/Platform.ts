/**
 * Where the examples find a platform: the real one named by the `IOCM_*` variables, or, when
 * `IOCM_BASE_URL` is unset, a simulator embedded in the process (HTTPS with its test CA).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { PlatformConfig } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { Simulator } from "@iocm/simulator"
import { Cause, Config, ConfigProvider, Effect, Exit, Layer, Option, References, Runtime } from "effect"
import type { HttpClient } from "effect/http"

/**
 * The environment as the examples read it: a variable set to an empty string is an empty value, as it always was,
 * not an unset one (Effect 4's default), so that `IOCM_REFRESH_TOKEN=` is refused locally instead of ignored.
 */
export const environment: Layer.Layer<never> = ConfigProvider.layer(
  ConfigProvider.fromEnv({ preserveEmptyStrings: true })
)

/**
 * How the long-running examples end the process: status 0 when stopped by Ctrl-C or SIGTERM, as they always have
 * (Effect 4's default is 130), and otherwise Effect's default.
 */
export const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

/**
 * Runs a long-running example as its process's entrypoint: the examples' environment, only warnings
 * and errors from the library's own log lines (the program prints what matters), `teardown` on exit.
 */
export const runQuietly = <A, E>(program: Effect.Effect<A, E>): void =>
  NodeRuntime.runMain(
    program.pipe(Effect.provide(environment), Effect.provideService(References.MinimumLogLevel, "Warn")),
    { teardown }
  )

/** What the examples need: the platform settings and a client that trusts it. */
export type Platform = PlatformConfig.PlatformConfig | HttpClient.HttpClient

/**
 * An embedded simulator (with the app of `IOCM_APP_ID` / `IOCM_SECRET`, or the demo app), the
 * settings pointing at it and a client trusting its test CA.
 */
export const layerEmbedded = (
  options: Simulator.SimulatorOptions = {}
): Layer.Layer<Platform | Simulator.Simulator, unknown> =>
  Layer.unwrap(Effect.gen(function*() {
    const app = yield* Simulator.appConfig
    const simulator = yield* Simulator.make({ app, ...options })
    const platform = Layer.merge(
      PlatformConfig.layer({ baseUrl: simulator.baseUrl, appId: app.appId, secret: app.secret }),
      IocmHttp.layer({ ca: simulator.ca, cert: simulator.clientCert, key: simulator.clientKey })
    )
    return Layer.merge(platform, Layer.succeed(Simulator.Simulator, simulator))
  }))

/** The real platform from `IOCM_BASE_URL`, `IOCM_APP_ID`, `IOCM_SECRET` and the TLS variables. */
export const layerConfigured: Layer.Layer<Platform, unknown> = Layer.merge(
  PlatformConfig.layerConfig(),
  IocmHttp.layerConfig()
)

/** The configured platform when `IOCM_BASE_URL` is set, else an embedded simulator. */
export const layer = (options: Simulator.SimulatorOptions = {}): Layer.Layer<Platform, unknown> =>
  Layer.unwrap(
    Effect.map(
      Config.option(Config.String("IOCM_BASE_URL")),
      (baseUrl) => Option.isSome(baseUrl) ? layerConfigured : layerEmbedded(options)
    )
  )

/** Shows at most the last 4 characters of a secret value. */
export const mask = (value: string): string => `****${value.length >= 12 ? value.slice(-4) : ""}`

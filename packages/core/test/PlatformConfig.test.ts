import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Layer, Redacted } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as IocmAuth from "../src/IocmAuth.js"
import * as PlatformConfig from "../src/PlatformConfig.js"
import { appId, secret } from "./utils/fixtures.js"

const settings = (baseUrl: string) => PlatformConfig.make({ baseUrl, appId, secret })

describe("PlatformConfig", () => {
  it.effect("accepts https anywhere and fills the defaults", () =>
    Effect.gen(function*() {
      const config = yield* settings("https://203.0.113.10:8743/")
      assert.strictEqual(config.baseUrl, "https://203.0.113.10:8743")
      assert.strictEqual(config.appKeyHeader, "app_key")
      assert.isTrue(Duration.equals(config.refreshTokenLifetime, Duration.days(30)))
      assert.isTrue(Redacted.isRedacted(config.secret))
      assert.strictEqual(Redacted.value(config.secret), secret)
    }))

  for (const url of ["http://127.0.0.1:8743", "http://127.3.2.1", "http://localhost:1", "http://[::1]:8080"]) {
    it.effect(`accepts plain http on the loopback host of ${url}`, () =>
      Effect.gen(function*() {
        const config = yield* settings(url)
        assert.isTrue(config.baseUrl.startsWith("http://"))
      }))
  }

  const refused: ReadonlyArray<[string, string]> = [
    ["http://203.0.113.10:8743", "plain http is refused"],
    ["http://localhost.example.com", "plain http is refused"],
    ["http://128.0.0.1", "plain http is refused"],
    ["ftp://127.0.0.1", "not supported"],
    ["not a url", "not a valid absolute URL"],
    ["https://user:pw@example.com", "credentials"],
    ["https://example.com/?a=1", "query"]
  ]
  for (const [url, reason] of refused) {
    it.effect(`refuses ${url}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(settings(url))
        assert.strictEqual(error._tag, "InvalidPlatformConfig")
        assert.strictEqual(error.option, "baseUrl")
        assert.include(error.message, reason)
      }))
  }

  it.effect("refuses an invalid header name and a non-positive refresh-token lifetime", () =>
    Effect.gen(function*() {
      const header = yield* Effect.flip(
        PlatformConfig.make({ baseUrl: "https://x.test", appId, secret, appKeyHeader: "app key" })
      )
      assert.strictEqual(header.option, "appKeyHeader")
      const lifetime = yield* Effect.flip(
        PlatformConfig.make({ baseUrl: "https://x.test", appId, secret, refreshTokenLifetime: 0 })
      )
      assert.strictEqual(lifetime.option, "refreshTokenLifetime")
      const unreadable = yield* Effect.flip(
        PlatformConfig.make({ baseUrl: "https://x.test", appId, secret, refreshTokenLifetime: "one month" as never })
      )
      assert.strictEqual(unreadable.option, "refreshTokenLifetime")
      const timeout = yield* Effect.flip(
        PlatformConfig.make({ baseUrl: "https://x.test", appId, secret, requestTimeout: "-1 seconds" })
      )
      assert.strictEqual(timeout.option, "requestTimeout")
      assert.include(timeout.message, "30 seconds")
      const settings = yield* PlatformConfig.make({ baseUrl: "https://x.test", appId, secret })
      assert.isTrue(Duration.equals(settings.requestTimeout, Duration.seconds(30)))
    }))

  it.effect("layerConfig reads the IOCM_* variables, the secret redacted", () =>
    Effect.gen(function*() {
      const config = yield* PlatformConfig.PlatformConfig.pipe(
        Effect.provide(PlatformConfig.layerConfig),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
          env: {
            IOCM_BASE_URL: "https://203.0.113.10:8743",
            IOCM_APP_ID: appId,
            IOCM_SECRET: secret,
            IOCM_REFRESH_TOKEN_LIFETIME: "24 hours",
            IOCM_APP_KEY_HEADER: "x-app-key",
            IOCM_TIMEOUT: "5 seconds"
          }
        })))
      )
      assert.strictEqual(config.appId, appId)
      assert.strictEqual(String(config.secret), "<redacted>")
      assert.isTrue(Duration.equals(config.refreshTokenLifetime, Duration.hours(24)))
      assert.strictEqual(config.appKeyHeader, "x-app-key")
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(5)))
    }))

  it.effect("layerConfig fails with a ConfigError naming a missing variable", () =>
    Effect.gen(function*() {
      const exit = yield* PlatformConfig.PlatformConfig.pipe(
        Effect.provide(PlatformConfig.layerConfig),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { IOCM_APP_ID: appId } }))),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(exit), "IOCM_BASE_URL")
    }))

  it.effect("IocmAuth refuses plain http to a remote host even when the settings were built by hand", () =>
    Effect.gen(function*() {
      const handmade = Layer.succeed(PlatformConfig.PlatformConfig, {
        baseUrl: "http://platform.invalid:8743",
        appId,
        secret: Redacted.make(secret),
        refreshTokenLifetime: Duration.days(30),
        appKeyHeader: "app_key",
        requestTimeout: Duration.seconds(30)
      })
      const error = yield* Effect.flip(
        IocmAuth.IocmAuth.pipe(
          Effect.flatMap((auth) => auth.login),
          Effect.provide(IocmAuth.layer.pipe(Layer.provide(handmade), Layer.provide(FetchHttpClient.layer)))
        )
      )
      assert.strictEqual(error._tag, "InvalidPlatformConfig")
    }))
})

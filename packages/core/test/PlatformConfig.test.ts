import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as IocmAuth from "../src/IocmAuth.js"
import * as IocmConfig from "../src/IocmConfig.js"
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

type Env = Record<string, string>

const required: Env = { IOCM_BASE_URL: "https://203.0.113.10:8743", IOCM_APP_ID: appId, IOCM_SECRET: secret }

/** The settings `layerConfig(config)` builds from `provider`. */
const settingsFrom = (provider: ConfigProvider.ConfigProvider, config?: Config.Wrap<PlatformConfig.Options>) =>
  PlatformConfig.PlatformConfig.pipe(
    Effect.provide(PlatformConfig.layerConfig(config)),
    Effect.provide(ConfigProvider.layer(provider))
  )

const fromEnv = (env: Env) => ConfigProvider.fromEnv({ env })
const keepingEmpty = (env: Env) => ConfigProvider.fromEnv({ env, preserveEmptyStrings: true })

/** Why `layerConfig` refuses `provider`; the secret must never be part of it. */
const refusal = (provider: ConfigProvider.ConfigProvider, config?: Config.Wrap<PlatformConfig.Options>) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(settingsFrom(provider, config))
    assert.notInclude(error.message, secret)
    assert.notInclude(String(error), secret)
    return error
  })

const durationMessage = (variable: string, value: string) =>
  `${variable}: expected a duration such as "30 seconds" or a number of seconds, got ${JSON.stringify(value)}`

describe("PlatformConfig.layerConfig", () => {
  it.effect("reads the IOCM_* variables, the secret redacted, durations as bare seconds or Effect durations", () =>
    Effect.gen(function*() {
      const config = yield* settingsFrom(fromEnv({
        ...required,
        IOCM_REFRESH_TOKEN_LIFETIME: "86400",
        IOCM_APP_KEY_HEADER: "x-app-key",
        IOCM_TIMEOUT: "2.5"
      }))
      assert.strictEqual(config.baseUrl, "https://203.0.113.10:8743")
      assert.strictEqual(config.appId, appId)
      assert.strictEqual(String(config.secret), "<redacted>")
      assert.strictEqual(Redacted.value(config.secret), secret)
      assert.isTrue(Duration.equals(config.refreshTokenLifetime, Duration.hours(24)))
      assert.strictEqual(config.appKeyHeader, "x-app-key")
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.millis(2500)))
      const spelled = yield* settingsFrom(fromEnv({
        ...required,
        IOCM_REFRESH_TOKEN_LIFETIME: "24 hours",
        IOCM_TIMEOUT: "5 seconds"
      }))
      assert.isTrue(Duration.equals(spelled.refreshTokenLifetime, Duration.hours(24)))
      assert.isTrue(Duration.equals(spelled.requestTimeout, Duration.seconds(5)))
    }))

  it.effect("fills the defaults when the optional variables are unset or empty", () =>
    Effect.gen(function*() {
      const empty = { IOCM_REFRESH_TOKEN_LIFETIME: "", IOCM_APP_KEY_HEADER: "", IOCM_TIMEOUT: "" }
      for (const env of [required, { ...required, ...empty }]) {
        const config = yield* settingsFrom(fromEnv(env))
        assert.isTrue(Duration.equals(config.refreshTokenLifetime, PlatformConfig.defaultRefreshTokenLifetime))
        assert.strictEqual(config.appKeyHeader, PlatformConfig.defaultAppKeyHeader)
        assert.isTrue(Duration.equals(config.requestTimeout, PlatformConfig.defaultRequestTimeout))
      }
    }))

  for (const variable of ["IOCM_BASE_URL", "IOCM_APP_ID", "IOCM_SECRET"]) {
    it.effect(`says ${variable} is not set when it is missing or empty`, () =>
      Effect.gen(function*() {
        const { [variable]: _, ...without } = required
        for (const env of [without, { ...without, [variable]: "" }]) {
          const error = yield* refusal(fromEnv(env))
          assert.instanceOf(error, IocmConfig.VariableError)
          assert.strictEqual(error.message, `${variable} is not set`)
        }
      }))
  }

  const unreadable: ReadonlyArray<[string, string]> = [
    ["IOCM_TIMEOUT", "soon"],
    ["IOCM_TIMEOUT", "-5"],
    ["IOCM_REFRESH_TOKEN_LIFETIME", "one month"]
  ]
  for (const [variable, value] of unreadable) {
    it.effect(`refuses ${variable}=${value} instead of keeping the default`, () =>
      Effect.gen(function*() {
        const error = yield* refusal(fromEnv({ ...required, [variable]: value }))
        assert.strictEqual(error.message, durationMessage(variable, value))
      }))
  }

  const refused: ReadonlyArray<[string, string, string]> = [
    ["IOCM_BASE_URL", "http://203.0.113.10:8743", "baseUrl"],
    ["IOCM_APP_KEY_HEADER", "app key", "appKeyHeader"],
    ["IOCM_TIMEOUT", "0", "requestTimeout"],
    ["IOCM_REFRESH_TOKEN_LIFETIME", "Infinity", "refreshTokenLifetime"]
  ]
  for (const [variable, value, option] of refused) {
    it.effect(`refuses ${variable}=${value} as an invalid ${option}`, () =>
      Effect.gen(function*() {
        const error = yield* refusal(fromEnv({ ...required, [variable]: value }))
        assert.strictEqual(error._tag, "InvalidPlatformConfig")
        assert.strictEqual(error._tag === "InvalidPlatformConfig" ? error.option : undefined, option)
      }))
  }

  it.effect("with a provider that keeps empty values, refuses an empty base URL, header or duration", () =>
    Effect.gen(function*() {
      const baseUrl = yield* refusal(keepingEmpty({ ...required, IOCM_BASE_URL: "" }))
      assert.strictEqual(baseUrl._tag === "InvalidPlatformConfig" ? baseUrl.option : undefined, "baseUrl")
      const header = yield* refusal(keepingEmpty({ ...required, IOCM_APP_KEY_HEADER: "" }))
      assert.strictEqual(header._tag === "InvalidPlatformConfig" ? header.option : undefined, "appKeyHeader")
      const timeout = yield* refusal(keepingEmpty({ ...required, IOCM_TIMEOUT: "" }))
      assert.strictEqual(timeout.message, durationMessage("IOCM_TIMEOUT", ""))
    }))

  it.effect("with a provider that keeps empty values, keeps an empty appId and secret for IocmAuth to refuse", () =>
    Effect.gen(function*() {
      const config = yield* settingsFrom(keepingEmpty({ ...required, IOCM_APP_ID: "", IOCM_SECRET: "" }))
      assert.strictEqual(config.appId, "")
      assert.strictEqual(Redacted.value(config.secret), "")
    }))

  it.effect("reads variables named by the caller, every leaf a Config", () =>
    Effect.gen(function*() {
      const config = yield* settingsFrom(
        fromEnv({ MY_URL: "https://platform.test", MY_APP: "my-app", MY_SECRET: secret, MY_TIMEOUT: "7" }),
        {
          baseUrl: Config.String("MY_URL"),
          appId: Config.String("MY_APP"),
          secret: Config.Redacted("MY_SECRET"),
          requestTimeout: IocmConfig.duration("MY_TIMEOUT")
        }
      )
      assert.strictEqual(config.baseUrl, "https://platform.test")
      assert.strictEqual(config.appId, "my-app")
      assert.strictEqual(Redacted.value(config.secret), secret)
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(7)))
      assert.strictEqual(config.appKeyHeader, PlatformConfig.defaultAppKeyHeader)
    }))

  it.effect("takes envConfig with some variables renamed, and names them when they are missing", () =>
    Effect.gen(function*() {
      const renamed = { ...PlatformConfig.envConfig, secret: IocmConfig.requiredRedacted("MY_SECRET") }
      const { IOCM_SECRET: _, ...withoutSecret } = required
      const config = yield* settingsFrom(fromEnv({ ...withoutSecret, MY_SECRET: secret }), renamed)
      assert.strictEqual(config.appId, appId)
      assert.strictEqual(Redacted.value(config.secret), secret)
      const error = yield* refusal(fromEnv(required), renamed)
      assert.strictEqual(error.message, "MY_SECRET is not set")
    }))

  it.effect("takes one Config of all the options", () =>
    Effect.gen(function*() {
      const config = yield* settingsFrom(
        fromEnv({}),
        Config.succeed({ baseUrl: "https://platform.test", appId, secret: Redacted.make(secret) })
      )
      assert.strictEqual(config.baseUrl, "https://platform.test")
    }))

  it.effect("layerConfig() is one layer, so every use of it in an app shares one read", () =>
    Effect.gen(function*() {
      const env = fromEnv(required)
      const readsOf = (layer: Layer.Layer<PlatformConfig.PlatformConfig, unknown>) =>
        Effect.gen(function*() {
          let reads = 0
          const counting = ConfigProvider.make((path) => {
            reads += path[0] === "IOCM_BASE_URL" ? 1 : 0
            return env.load(path)
          })
          yield* PlatformConfig.PlatformConfig.pipe(
            Effect.provide(layer),
            Effect.provide(ConfigProvider.layer(counting))
          )
          return reads
        })
      assert.strictEqual(PlatformConfig.layerConfig(), PlatformConfig.layerConfig())
      const once = yield* readsOf(PlatformConfig.layerConfig())
      assert.isAbove(once, 0)
      assert.strictEqual(
        yield* readsOf(Layer.merge(PlatformConfig.layerConfig(), PlatformConfig.layerConfig())),
        once
      )
    }))
})

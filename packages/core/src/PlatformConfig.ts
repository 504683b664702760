/**
 * Where the platform is and who the application is: base URL, appId, secret, the refresh-token
 * lifetime and the name of the app-key header.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as IocmConfig from "./IocmConfig.js"

/**
 * The validated platform settings.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Settings {
  /** Base URL of the northbound API, e.g. `https://203.0.113.10:8743`, without a trailing slash. */
  readonly baseUrl: string
  /** The application's id; not a secret. */
  readonly appId: string
  /** The application's secret. */
  readonly secret: Redacted.Redacted<string>
  /** How long a refresh token stays valid (one month on most platforms, 24 h on some). */
  readonly refreshTokenLifetime: Duration.Duration
  /** Name of the header carrying the appId on business calls (`app_key`, or `x-app-key` on some deployments). */
  readonly appKeyHeader: string
  /** Longest a login or refresh may take, from sending it to the end of the answer's body. */
  readonly requestTimeout: Duration.Duration
}

/**
 * The platform settings as a service.
 *
 * @since 0.1.0
 * @category Tags
 */
export class PlatformConfig extends Context.Service<PlatformConfig, Settings>()("@iocm/core/PlatformConfig") {}

/**
 * Options of `layer` and `make`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly baseUrl: string | URL
  readonly appId: string
  /** The secret, preferably as a `Redacted`; a plain string is accepted and redacted at once. */
  readonly secret: Redacted.Redacted<string> | string
  /** Default: 30 days. */
  readonly refreshTokenLifetime?: Duration.Input | undefined
  /** Default: `app_key`. */
  readonly appKeyHeader?: string | undefined
  /** Default: 30 seconds, like the vendor's SDK. */
  readonly requestTimeout?: Duration.Input | undefined
}

/**
 * The settings were refused before anything was sent: a base URL that is not `https:` (except on
 * a loopback host), that does not parse, or a header name that is not a valid token.
 *
 * @since 0.1.0
 * @category Errors
 */
export class InvalidPlatformConfig
  extends Schema.TaggedError<InvalidPlatformConfig>("@iocm/core/InvalidPlatformConfig")("InvalidPlatformConfig", {
    /** The option at fault. */
    option: Schema.String,
    /** What is wrong with it. */
    reason: Schema.String
  })
{
  /** @since 0.1.0 */
  override get message(): string {
    return `Invalid platform configuration, ${this.option}: ${this.reason}`
  }
}

/**
 * Default refresh-token lifetime: 30 days.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultRefreshTokenLifetime: Duration.Duration = Duration.days(30)

/**
 * Default request timeout of login and refresh: 30 seconds, like the vendor's SDK.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(30)

/**
 * Default name of the app-key header.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultAppKeyHeader = "app_key"

const loopbackHosts = new Set(["localhost", "[::1]"])

/**
 * Whether a URL's host is loopback: `localhost`, `127.0.0.0/8` or `::1`.
 *
 * @since 0.1.0
 * @category Predicates
 */
export const isLoopback = (url: URL): boolean =>
  loopbackHosts.has(url.hostname.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(url.hostname)

const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Validates a base URL: it must parse, carry no credentials, query or fragment, and use `https:`
 * unless its host is loopback (where plain `http:` is allowed for tests and simulators).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const validateBaseUrl = (input: string | URL): Effect.Effect<string, InvalidPlatformConfig> =>
  Effect.gen(function*() {
    const invalid = (reason: string) => new InvalidPlatformConfig({ option: "baseUrl", reason })
    if (!URL.canParse(String(input))) {
      return yield* invalid("not a valid absolute URL")
    }
    const url = new URL(input)
    if (url.username !== "" || url.password !== "") {
      return yield* invalid("must not carry credentials; give appId and secret as their own settings")
    }
    if (url.search !== "" || url.hash !== "") {
      return yield* invalid("must not have a query or a fragment")
    }
    if (url.protocol === "http:" && !isLoopback(url)) {
      return yield* invalid(
        `plain http is refused for ${url.host}: the platform is HTTPS only, and http is allowed only on loopback hosts`
      )
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return yield* invalid(`scheme ${url.protocol} is not supported; use https:`)
    }
    return url.href.replace(/\/+$/, "")
  })

/** The option as a positive, finite duration (`fallback` when absent), or why it is refused. */
const positiveDuration = (
  option: string,
  input: Duration.Input | undefined,
  fallback: Duration.Duration,
  example: string
): Effect.Effect<Duration.Duration, InvalidPlatformConfig> => {
  const decoded = input === undefined ? Option.some(fallback) : Duration.fromInput(input)
  return Option.isSome(decoded) && Duration.isPositive(decoded.value) && Duration.isFinite(decoded.value)
    ? Effect.succeed(decoded.value)
    : Effect.fail(
      new InvalidPlatformConfig({ option, reason: `must be a positive, finite duration such as "${example}"` })
    )
}

/**
 * Validates options and builds the settings.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Effect.Effect<Settings, InvalidPlatformConfig> =>
  Effect.gen(function*() {
    const baseUrl = yield* validateBaseUrl(options.baseUrl)
    const appKeyHeader = options.appKeyHeader ?? defaultAppKeyHeader
    if (!headerName.test(appKeyHeader)) {
      return yield* new InvalidPlatformConfig({ option: "appKeyHeader", reason: "not a valid HTTP header name" })
    }
    return {
      baseUrl,
      appId: options.appId,
      secret: Redacted.isRedacted(options.secret) ? options.secret : Redacted.make(options.secret),
      refreshTokenLifetime: yield* positiveDuration(
        "refreshTokenLifetime",
        options.refreshTokenLifetime,
        defaultRefreshTokenLifetime,
        "30 days"
      ),
      appKeyHeader,
      requestTimeout: yield* positiveDuration(
        "requestTimeout",
        options.requestTimeout,
        defaultRequestTimeout,
        "30 seconds"
      )
    }
  })

/**
 * The settings from code. Fails when they are refused (see `InvalidPlatformConfig`).
 *
 * @example
 * ```ts
 * import { PlatformConfig } from "@iocm/core"
 * import { Redacted } from "effect"
 *
 * const PlatformLive = PlatformConfig.layer({
 *   baseUrl: "https://203.0.113.10:8743",
 *   appId: "my-app",
 *   secret: Redacted.make("my-secret")
 * })
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<PlatformConfig, InvalidPlatformConfig> =>
  Layer.effect(PlatformConfig, make(options))

/**
 * The `Config` of each option that `layerConfig` reads by default, from the `IOCM_*` variables:
 * `IOCM_BASE_URL`, `IOCM_APP_ID` and `IOCM_SECRET` (redacted) must be set; `IOCM_REFRESH_TOKEN_LIFETIME`
 * (a duration such as `24 hours`), `IOCM_APP_KEY_HEADER` and `IOCM_TIMEOUT` (`IocmConfig.timeout`,
 * which `@iocm/http` reads too) are optional. Spread it to rename some of them.
 *
 * @since 0.2.0
 * @category Config
 */
export const envConfig: { readonly [K in keyof Options]-?: Config.Config<Options[K]> } = {
  baseUrl: IocmConfig.requiredString("IOCM_BASE_URL"),
  appId: IocmConfig.requiredString("IOCM_APP_ID"),
  secret: IocmConfig.requiredRedacted("IOCM_SECRET"),
  refreshTokenLifetime: IocmConfig.duration("IOCM_REFRESH_TOKEN_LIFETIME").pipe(Config.withDefault(undefined)),
  appKeyHeader: Config.String("IOCM_APP_KEY_HEADER").pipe(Config.withDefault(undefined)),
  requestTimeout: IocmConfig.timeout
}

const layerFromConfig = (
  config: Config.Wrap<Options>
): Layer.Layer<PlatformConfig, InvalidPlatformConfig | Config.ConfigError> =>
  Layer.effect(PlatformConfig, Effect.flatMap(Config.unwrap(config), make))

/** One layer for the default, so that every use of `layerConfig()` in an app shares one read, as a value would. */
const layerEnv = layerFromConfig(envConfig)

/**
 * The settings read through `Config`: the options as named by `config` (each a `Config`, or one
 * `Config` of them all), by default the `IOCM_*` variables of `envConfig`. Fails with a
 * `Config.ConfigError` naming the variable that is missing or unreadable, or with an
 * `InvalidPlatformConfig` when the settings are refused (see `make`).
 *
 * @example
 * ```ts
 * import { PlatformConfig } from "@iocm/core"
 * import { Config } from "effect"
 *
 * // The IOCM_* variables.
 * const FromEnv = PlatformConfig.layerConfig()
 *
 * // The same, with the secret taken from a variable of your own.
 * const Renamed = PlatformConfig.layerConfig({
 *   ...PlatformConfig.envConfig,
 *   secret: Config.Redacted("MY_APP_SECRET")
 * })
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  config?: Config.Wrap<Options>
): Layer.Layer<PlatformConfig, InvalidPlatformConfig | Config.ConfigError> =>
  config === undefined ? layerEnv : layerFromConfig(config)

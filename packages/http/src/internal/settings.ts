/**
 * The transport's options checked and resolved once, when the layer is built: defaults applied,
 * durations and the pool size validated, the proxy URL parsed and the TLS settings turned into a
 * secure context. A problem is an `Issue` naming the option, never repeating a secret.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type { ConfigOption, Options } from "../IocmHttp.js"
import * as Tls from "./tls.js"

/**
 * What is wrong with one option, and where it came from when that is known.
 *
 * @internal
 */
export interface Issue {
  readonly option: ConfigOption
  readonly reason: string
  readonly variable?: string | undefined
  readonly path?: string | undefined
}

/**
 * The options, checked, with their defaults.
 *
 * @internal
 */
export interface Settings {
  readonly tls: Tls.ConnectTls
  readonly connectTimeout: Duration.Duration
  readonly timeout: Duration.Duration
  readonly connections: number
  readonly keepAliveTimeout: Duration.Duration | undefined
  readonly proxy: URL | undefined
  readonly noProxy: string
}

/**
 * The request timeout of every layer unless told otherwise.
 *
 * @internal
 */
export const defaultTimeout = Duration.seconds(30)

const defaultConnectTimeout = Duration.seconds(30)
const defaultConnections = 200

const positiveDuration = (
  option: ConfigOption,
  input: Duration.Input
): Result.Result<Duration.Duration, Issue> => {
  const duration = Duration.fromInput(input)
  return Option.isSome(duration) && Duration.isFinite(duration.value) && Duration.toMillis(duration.value) > 0
    ? Result.succeed(duration.value)
    : Result.fail({ option, reason: "must be a positive, finite duration such as \"30 seconds\"" })
}

const optionalDuration = (
  option: ConfigOption,
  input: Duration.Input | undefined
): Result.Result<Duration.Duration | undefined, Issue> =>
  input === undefined ? Result.succeed(undefined) : positiveDuration(option, input)

const poolSize = (connections: number | undefined): Result.Result<number, Issue> => {
  const size = connections ?? defaultConnections
  return Number.isSafeInteger(size) && size >= 1
    ? Result.succeed(size)
    : Result.fail({ option: "connections", reason: "must be a positive integer" })
}

const proxyUrl = (input: Options["proxy"]): Result.Result<URL | undefined, Issue> => {
  const raw = Redacted.isRedacted(input) ? Redacted.value(input) : input
  if (raw === undefined || raw === "") return Result.succeed(undefined)
  // The proxy URL may carry credentials: the reason never repeats it.
  const invalid: Issue = { option: "proxy", reason: "must be an http:// or https:// URL" }
  const url = URL.parse(typeof raw === "string" ? raw : raw.href)
  return url !== null && (url.protocol === "http:" || url.protocol === "https:")
    ? Result.succeed(url)
    : Result.fail(invalid)
}

const tlsIssue = (issue: Tls.Issue): Issue => ({
  option: issue.option,
  reason: issue.index === undefined ? issue.reason : `entry ${issue.index + 1}: ${issue.reason}`
})

/**
 * Checks the options and applies the defaults.
 *
 * @internal
 */
export const resolve = (options: Options): Result.Result<Settings, Issue> =>
  Result.gen(function*() {
    const tls = yield* Result.mapError(Tls.makeConnectOptions(options), tlsIssue)
    const connectTimeout = yield* optionalDuration("connectTimeout", options.connectTimeout)
    const timeout = yield* optionalDuration("timeout", options.timeout)
    return {
      tls,
      connectTimeout: connectTimeout ?? defaultConnectTimeout,
      timeout: timeout ?? defaultTimeout,
      keepAliveTimeout: yield* optionalDuration("keepAliveTimeout", options.keepAliveTimeout),
      connections: yield* poolSize(options.connections),
      proxy: yield* proxyUrl(options.proxy),
      noProxy: options.noProxy ?? ""
    }
  })

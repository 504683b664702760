/**
 * The transport to the OceanConnect northbound API: `HttpClient` layers backed by undici on Node, with
 * mutual TLS (PEM or PKCS#12), always-on chain verification, an explicit host name opt-out, connect and
 * request timeouts that really abandon the request, a bounded keep-alive pool and an HTTP(S) proxy; and a
 * fetch-based layer for Bun, Deno and edge runtimes.
 *
 * Failures are Effect's `HttpClientError`s: anything that goes wrong on the wire, timeouts included, is an
 * `HttpClientError` whose reason is a `TransportError` with a `description` that says what happened.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs/promises"
import * as Deadline from "./internal/deadline.js"
import * as Describe from "./internal/describe.js"
import { type BodyHooks, WrappedResponse } from "./internal/response.js"
import * as Tls from "./internal/tls.js"

/**
 * A PEM document: its text, or its bytes as read from a file.
 *
 * @since 0.1.0
 * @category Models
 */
export type Pem = string | Uint8Array

/**
 * How to reach the platform. Everything is optional: `layer()` alone trusts Node's root CAs and presents
 * no client certificate.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /**
   * The CAs to trust, PEM: one document (which may hold several certificates, e.g. the vendor's test and
   * commercial roots) or a list. Replaces Node's root CAs. Chains are always verified.
   */
  readonly ca?: Pem | ReadonlyArray<Pem> | undefined
  /** The client certificate (PEM, optionally followed by its intermediates), with `key`. */
  readonly cert?: Pem | undefined
  /** The private key of `cert` (PEM); if it is encrypted, give `passphrase`. */
  readonly key?: Pem | Redacted.Redacted<Pem> | undefined
  /** The client identity as PKCS#12 (`.p12` / `.pfx`), instead of `cert` and `key`. */
  readonly pfx?: Uint8Array | Redacted.Redacted<Uint8Array> | undefined
  /** The passphrase of `pfx`, or of an encrypted `key`. */
  readonly passphrase?: Redacted.Redacted<string> | undefined
  /**
   * `false` skips only the check that the server's certificate names the host of the URL — for a platform
   * reached by a bare IP whose certificate names another host. The chain is still verified against `ca`,
   * which is then required. Default `true`. Prefer `serverName` when you know the name the certificate carries.
   */
  readonly verifyHostname?: boolean | undefined
  /**
   * The name the server's certificate must carry, when it differs from the URL's host (e.g. the URL is a
   * bare IP). Also sent as SNI. Applies to every origin this client connects to.
   */
  readonly serverName?: string | undefined
  /** The lowest TLS version accepted. Default `"TLSv1.2"`. */
  readonly minVersion?: "TLSv1.2" | "TLSv1.3" | undefined
  /** Time allowed to open the connection, TLS handshake included. Default 30 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * Time allowed for the whole request, from sending it until its body has been read (connecting
   * included). Default 30 seconds.
   */
  readonly timeout?: Duration.Input | undefined
  /** The most connections kept open per origin (the pool size). Default 200. */
  readonly connections?: number | undefined
  /**
   * The longest an idle keep-alive connection is kept (a shorter `Keep-Alive` hint from the server wins).
   * Default: undici's, 4 seconds or the server's hint up to 10 minutes.
   */
  readonly keepAliveTimeout?: Duration.Input | undefined
  /**
   * An HTTP(S) proxy URL (`http://user:password@proxy:3128`); HTTPS requests are tunnelled through it
   * with CONNECT and verified end to end exactly as without a proxy. `undefined` or `""`: no proxy.
   */
  readonly proxy?: string | URL | Redacted.Redacted<string> | undefined
  /**
   * Hosts reached without the proxy, `NO_PROXY` syntax: comma separated host names (a leading `.` or `*.`
   * also matches subdomains), optionally with `:port`, or `*` for all.
   */
  readonly noProxy?: string | undefined
}

/**
 * The option (and, with `layerConfig`, the variable and file) that made the layer fail.
 *
 * @since 0.1.0
 * @category Models
 */
export const ConfigOption = Schema.Literals([
  "ca",
  "cert",
  "key",
  "pfx",
  "passphrase",
  "verifyHostname",
  "serverName",
  "minVersion",
  "connectTimeout",
  "timeout",
  "connections",
  "keepAliveTimeout",
  "proxy",
  "noProxy"
])

/**
 * The name of an `Options` field.
 *
 * @since 0.1.0
 * @category Models
 */
export type ConfigOption = typeof ConfigOption.Type

/**
 * The transport could not be built from its options: a missing or unreadable file, a bad PEM, a wrong
 * passphrase, a key that does not belong to the certificate, a bad duration or proxy URL. Raised when the
 * layer is built, never later; it never contains a passphrase or key material.
 *
 * @since 0.1.0
 * @category Errors
 */
export class IocmHttpConfigError extends Schema.TaggedError<IocmHttpConfigError>("@iocm/http/IocmHttpConfigError")(
  "IocmHttpConfigError",
  {
    option: ConfigOption,
    variable: Schema.optional(Schema.String),
    path: Schema.optional(Schema.String),
    reason: Schema.String
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const where = this.variable ?? `option ${this.option}`
    const file = this.path === undefined ? "" : ` (${this.path})`
    return `Invalid HTTP transport setting ${where}${file}: ${this.reason}`
  }
}

const defaultTimeout = Duration.seconds(30)
const defaultConnectTimeout = Duration.seconds(30)
const defaultConnections = 200

const positiveDuration = (
  option: ConfigOption,
  input: Duration.Input | undefined,
  fallback: Duration.Duration
): Result.Result<Duration.Duration, IocmHttpConfigError> => {
  if (input === undefined) return Result.succeed(fallback)
  const duration = Duration.fromInput(input)
  return Option.isSome(duration) && Duration.isFinite(duration.value) && Duration.toMillis(duration.value) > 0
    ? Result.succeed(duration.value)
    : Result.fail(
      new IocmHttpConfigError({ option, reason: "must be a positive, finite duration such as \"30 seconds\"" })
    )
}

const proxyUrl = (
  input: Options["proxy"]
): Result.Result<URL | undefined, IocmHttpConfigError> => {
  const raw = Redacted.isRedacted(input) ? Redacted.value(input) : input
  if (raw === undefined || raw === "") return Result.succeed(undefined)
  // The proxy URL may carry credentials: the reason never repeats it.
  const invalid = new IocmHttpConfigError({ option: "proxy", reason: "must be an http:// or https:// URL" })
  let url: URL
  try {
    url = typeof raw === "string" ? new URL(raw) : new URL(raw.href)
  } catch {
    return Result.fail(invalid)
  }
  return url.protocol === "http:" || url.protocol === "https:" ? Result.succeed(url) : Result.fail(invalid)
}

interface Settings {
  readonly tls: Tls.ConnectTls
  readonly connectTimeout: Duration.Duration
  readonly timeout: Duration.Duration
  readonly connections: number
  readonly keepAliveTimeout: Duration.Duration | undefined
  readonly proxy: URL | undefined
  readonly noProxy: string
}

const resolve = (options: Options): Result.Result<Settings, IocmHttpConfigError> =>
  Result.gen(function*() {
    const tls = yield* Tls.makeConnectOptions(options).pipe(
      Result.mapError((issue) =>
        new IocmHttpConfigError({
          option: issue.option,
          reason: issue.index === undefined ? issue.reason : `entry ${issue.index + 1}: ${issue.reason}`
        })
      )
    )
    const connectTimeout = yield* positiveDuration("connectTimeout", options.connectTimeout, defaultConnectTimeout)
    const timeout = yield* positiveDuration("timeout", options.timeout, defaultTimeout)
    const keepAliveTimeout = options.keepAliveTimeout === undefined
      ? undefined
      : yield* positiveDuration("keepAliveTimeout", options.keepAliveTimeout, Duration.zero)
    const connections = options.connections ?? defaultConnections
    if (!Number.isSafeInteger(connections) || connections < 1) {
      return yield* Result.fail(
        new IocmHttpConfigError({ option: "connections", reason: "must be a positive integer" })
      )
    }
    const proxy = yield* proxyUrl(options.proxy)
    return { tls, connectTimeout, timeout, connections, keepAliveTimeout, proxy, noProxy: options.noProxy ?? "" }
  })

const makeDispatcher = (settings: Settings): Undici.Dispatcher => {
  const connectMillis = Math.ceil(Duration.toMillis(settings.connectTimeout))
  const bodyMillis = Math.ceil(Duration.toMillis(settings.timeout))
  const connect = { ...settings.tls, timeout: connectMillis }
  const pool: Undici.Agent.Options = { connections: settings.connections, connect }
  if (settings.keepAliveTimeout !== undefined) {
    const keepAliveMillis = Math.ceil(Duration.toMillis(settings.keepAliveTimeout))
    // also caps the server's Keep-Alive hint, so that no idle connection outlives the setting
    pool.keepAliveTimeout = keepAliveMillis
    pool.keepAliveMaxTimeout = keepAliveMillis
  }
  const agent: Undici.Dispatcher = settings.proxy === undefined
    ? new Undici.Agent(pool)
    : new Undici.EnvHttpProxyAgent({
      ...pool,
      // Given explicitly, so that undici never falls back to the process environment.
      httpProxy: settings.proxy.href,
      httpsProxy: settings.proxy.href,
      noProxy: settings.noProxy,
      requestTls: connect,
      proxyTls: { timeout: connectMillis }
    })
  // @effect/platform-node's makeUndici turns undici's body timeout off on every request; put ours back, so
  // that a body that stalls is abandoned like a response that never comes.
  return agent.compose((dispatch) => (options, handler) => dispatch({ ...options, bodyTimeout: bodyMillis }, handler))
}

/** An `HttpClientError` for `reason`. */
const clientError = (reason: HttpClientError.HttpClientErrorReason): HttpClientError.HttpClientError =>
  new HttpClientError.HttpClientError({ reason })

/**
 * The error with a description of its cause, when it has none and one can be given: a transport failure
 * (the request got no response) or a body read that failed (e.g. undici's body inactivity timeout).
 */
const describeError = (
  error: HttpClientError.HttpClientError,
  context: Describe.Context
): HttpClientError.HttpClientError => {
  const reason = error.reason
  if (reason.description !== undefined || reason.cause === undefined) return error
  switch (reason._tag) {
    case "TransportError": {
      const description = Describe.describe(reason.cause, {
        ...context,
        secure: reason.request.url.startsWith("https:")
      })
      return description === undefined
        ? error
        : clientError(new HttpClientError.TransportError({ request: reason.request, cause: reason.cause, description }))
    }
    case "DecodeError": {
      const description = Describe.describe(reason.cause, context)
      return description === undefined ? error : clientError(
        new HttpClientError.DecodeError({
          request: reason.request,
          response: reason.response,
          cause: reason.cause,
          description
        })
      )
    }
    default:
      return error
  }
}

const describeErrors = (context: Describe.Context) => {
  const describe = (error: HttpClientError.HttpClientError) => describeError(error, context)
  const hooks: BodyHooks = { effect: Effect.mapError(describe), stream: Stream.mapError(describe) }
  return <E, R>(self: HttpClient.HttpClient.With<E, R>) =>
    HttpClient.transformResponse(self, (effect) =>
      effect.pipe(
        Effect.map((response) => new WrappedResponse(response, hooks)),
        Effect.mapError((error) => HttpClientError.isHttpClientError(error) ? describe(error) as E : error)
      ))
}

/**
 * Bounds a whole request by `timeout`, from sending it to the end of its body: a request with no
 * response by then fails with an `HttpClientError` whose reason is a `TransportError`, a body still
 * being read (even one that trickles in) with one whose reason is a `DecodeError`, both described
 * "request timed out after …"; either way the request is interrupted, which aborts it on the wire.
 *
 * @since 0.1.0
 * @category Combinators
 */
export const withTimeout = (timeout: Duration.Input) => {
  const duration = Duration.fromInputUnsafe(timeout)
  const millis = Duration.toMillis(duration)
  const description = `request timed out after ${Duration.format(duration)}`
  return <E, R>(
    self: HttpClient.HttpClient.With<E, R>
  ): HttpClient.HttpClient.With<E | HttpClientError.HttpClientError, R> =>
    HttpClient.transform(
      self,
      (effect, request) =>
        Effect.flatMap(Deadline.start(millis), (deadline) =>
          deadline.bound(effect, () =>
            clientError(new HttpClientError.TransportError({ request, description })), false)
            .pipe(Effect.map((response) =>
              new WrappedResponse(
                response,
                bodyHooks(
                  deadline,
                  () => clientError(new HttpClientError.DecodeError({ request, response, description }))
                )
              )
            )))
    )
}

/** Body reads bounded by the request's deadline; the first read that ends (or fails) ends the request. */
const bodyHooks = (deadline: Deadline.Deadline, timedOut: () => HttpClientError.HttpClientError): BodyHooks => ({
  effect: (read) => deadline.bound(read, timedOut, true),
  stream: (read) =>
    read.pipe(
      Stream.interruptWhen(deadline.expiry(timedOut)),
      Stream.ensuring(Effect.sync(deadline.end))
    )
})

/**
 * Builds the undici-backed client; its connection pool is closed when the scope closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<HttpClient.HttpClient, IocmHttpConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* Effect.fromResult(resolve(options))
    const dispatcher = yield* Effect.acquireRelease(
      Effect.sync(() => makeDispatcher(settings)),
      (dispatcher) => Effect.promise(() => dispatcher.destroy())
    )
    const client = yield* Effect.provideService(NodeHttpClient.makeUndici, NodeHttpClient.Dispatcher, dispatcher)
    return client.pipe(
      describeErrors({ connectTimeout: settings.connectTimeout, bodyTimeout: settings.timeout }),
      withTimeout(settings.timeout)
    )
  })

/**
 * The `HttpClient` on undici (Node), configured from code.
 *
 * @example
 * ```ts
 * import { IocmHttp } from "@iocm/http"
 * import { Effect, Layer, Redacted } from "effect"
 * import * as Fs from "node:fs"
 *
 * // The files are read when the layer is built, not when this module is loaded.
 * const HttpLive = Layer.unwrap(Effect.sync(() =>
 *   IocmHttp.layer({
 *     ca: Fs.readFileSync("/etc/iocm/platform-ca.pem"),
 *     pfx: Fs.readFileSync("/etc/iocm/na.p12"),
 *     passphrase: Redacted.make(process.env.IOCM_PASSPHRASE ?? "")
 *   })
 * ))
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient, IocmHttpConfigError> =>
  Layer.effect(HttpClient.HttpClient, make(options))

const optionalString = (name: string): Config.Config<Option.Option<string>> =>
  Config.String(name).pipe(
    Config.option,
    Config.map(Option.flatMap((value) => Option.some(value.trim()).pipe(Option.filter((s) => s !== ""))))
  )

const optionalRedacted = (name: string): Config.Config<Option.Option<Redacted.Redacted<string>>> =>
  Config.Redacted(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => Redacted.value(value).trim() !== ""))
  )

const firstSome = <A>(...configs: Array<Config.Config<Option.Option<A>>>): Config.Config<Option.Option<A>> =>
  Config.all(configs).pipe(
    Config.map((values) => values.reduce((acc, next) => Option.orElse(acc, () => next), Option.none<A>()))
  )

const booleanWords = new Map([
  ["true", true],
  ["yes", true],
  ["on", true],
  ["1", true],
  ["false", false],
  ["no", false],
  ["off", false],
  ["0", false]
])

const normalize = (value: string): string => value.trim().toLowerCase()

/** A word `booleanWords` knows, in any case and with spaces around it. */
const BooleanWord = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((value) =>
      booleanWords.has(normalize(value)) || "IOCM_VERIFY_HOSTNAME: expected true or false (also yes/no, on/off, 1/0)"
    )
  )
)

const EnvConfig = Config.all({
  caFiles: optionalString("IOCM_CA_FILE"),
  certFile: optionalString("IOCM_CERT_FILE"),
  keyFile: optionalString("IOCM_KEY_FILE"),
  pfxFile: optionalString("IOCM_PFX_FILE"),
  passphrase: Config.option(Config.Redacted("IOCM_PASSPHRASE")),
  verifyHostname: Config.schema(BooleanWord, "IOCM_VERIFY_HOSTNAME").pipe(
    Config.map((value) => booleanWords.get(normalize(value)) === true),
    Config.withDefault(true)
  ),
  serverName: optionalString("IOCM_SERVER_NAME"),
  timeout: Config.option(Config.Duration("IOCM_TIMEOUT")),
  connectTimeout: Config.option(Config.Duration("IOCM_CONNECT_TIMEOUT")),
  connections: Config.option(Config.Int("IOCM_CONNECTIONS")),
  proxy: firstSome(optionalRedacted("HTTPS_PROXY"), optionalRedacted("https_proxy")),
  noProxy: firstSome(optionalString("NO_PROXY"), optionalString("no_proxy"))
})

const variables: Partial<Record<ConfigOption, string>> = {
  ca: "IOCM_CA_FILE",
  cert: "IOCM_CERT_FILE",
  key: "IOCM_KEY_FILE",
  pfx: "IOCM_PFX_FILE",
  passphrase: "IOCM_PASSPHRASE",
  verifyHostname: "IOCM_VERIFY_HOSTNAME",
  serverName: "IOCM_SERVER_NAME",
  timeout: "IOCM_TIMEOUT",
  connectTimeout: "IOCM_CONNECT_TIMEOUT",
  connections: "IOCM_CONNECTIONS",
  proxy: "HTTPS_PROXY",
  noProxy: "NO_PROXY"
}

const fileReason = (cause: unknown): string => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined
  switch (code) {
    case "ENOENT":
      return "file not found"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    case "EISDIR":
      return "is a directory, not a file"
    default:
      return `cannot read the file${typeof code === "string" ? ` (${code})` : ""}`
  }
}

const readFile = (option: ConfigOption, path: string): Effect.Effect<Buffer, IocmHttpConfigError> =>
  Effect.tryPromise({
    try: () => Fs.readFile(path),
    catch: (cause) => new IocmHttpConfigError({ option, variable: variables[option], path, reason: fileReason(cause) })
  })

const readOptional = (option: ConfigOption, path: Option.Option<string>) =>
  Option.match(path, {
    onNone: () => Effect.succeed(undefined),
    onSome: (path) => readFile(option, path)
  })

/**
 * The `HttpClient` on undici (Node), configured through `Config` (by default from the environment):
 *
 * - `IOCM_CA_FILE`: PEM file(s) of the CAs to trust, comma separated
 * - `IOCM_CERT_FILE` + `IOCM_KEY_FILE` (PEM), or `IOCM_PFX_FILE` (PKCS#12): the client identity
 * - `IOCM_PASSPHRASE` (redacted): of the PKCS#12 file or of an encrypted key
 * - `IOCM_VERIFY_HOSTNAME`: `false` skips only the host name check; `IOCM_SERVER_NAME`: the name to check
 * - `IOCM_TIMEOUT`, `IOCM_CONNECT_TIMEOUT`: durations such as `30 seconds`; `IOCM_CONNECTIONS`: pool size
 * - `HTTPS_PROXY` / `https_proxy` and `NO_PROXY` / `no_proxy`
 *
 * Files are read and checked when the layer is built; any problem fails it with an `IocmHttpConfigError`
 * naming the variable and the file.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig: Layer.Layer<HttpClient.HttpClient, Config.ConfigError | IocmHttpConfigError> = Layer
  .effect(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const env = yield* EnvConfig
      const caFiles = Option.match(env.caFiles, {
        onNone: () => [],
        onSome: (value) => value.split(",").map((path) => path.trim()).filter((path) => path !== "")
      })
      const ca = caFiles.length === 0 ? undefined : yield* Effect.forEach(caFiles, (path) => readFile("ca", path))
      const cert = yield* readOptional("cert", env.certFile)
      const key = yield* readOptional("key", env.keyFile)
      const pfx = yield* readOptional("pfx", env.pfxFile)
      const pathOf = (error: IocmHttpConfigError): string | undefined => {
        switch (error.option) {
          case "ca":
            return caFiles.length === 1 ? caFiles[0] : caFiles.join(",")
          case "cert":
            return Option.getOrUndefined(env.certFile)
          case "key":
            return Option.getOrUndefined(env.keyFile)
          case "pfx":
            return Option.getOrUndefined(env.pfxFile)
          case "passphrase":
            return Option.getOrUndefined(Option.orElse(env.pfxFile, () => env.keyFile))
          default:
            return undefined
        }
      }
      return yield* make({
        ca: ca === undefined ? undefined : ca.length === 1 ? ca[0] : ca,
        cert,
        key: key === undefined ? undefined : Redacted.make(key),
        pfx: pfx === undefined ? undefined : Redacted.make(pfx),
        passphrase: Option.getOrUndefined(env.passphrase),
        verifyHostname: env.verifyHostname,
        serverName: Option.getOrUndefined(env.serverName),
        timeout: Option.getOrUndefined(env.timeout),
        connectTimeout: Option.getOrUndefined(env.connectTimeout),
        connections: Option.getOrUndefined(env.connections),
        proxy: Option.getOrUndefined(env.proxy),
        noProxy: Option.getOrUndefined(env.noProxy)
      }).pipe(
        Effect.mapError((error) => {
          const path = pathOf(error)
          return new IocmHttpConfigError({
            option: error.option,
            variable: variables[error.option],
            ...(path === undefined ? {} : { path }),
            reason: error.reason
          })
        })
      )
    })
  )

/**
 * The runtime-agnostic `HttpClient` on `fetch`, for Bun, Deno and edge runtimes, with the same 30 second
 * request timeout and error descriptions. It takes no TLS options: the runtime's own trust store and TLS
 * settings apply (e.g. Deno's `--cert`), no client certificate is presented and host names are always
 * checked — use `layer` on Node where the platform requires mutual TLS.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerFetch: Layer.Layer<HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, (client) => client.pipe(describeErrors({}), withTimeout(defaultTimeout)))
).pipe(
  Layer.provide(FetchHttpClient.layer),
  Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" }))
)

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
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Client from "./internal/client.js"
import * as Deadline from "./internal/deadline.js"
import * as Env from "./internal/env.js"
import type * as Settings from "./internal/settings.js"

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
 * The transport could not be built from its options: a bad PEM, a wrong passphrase, a key that does not
 * belong to the certificate, a bad duration or proxy URL. Raised when the layer is built, never later; it
 * never contains a passphrase or key material. With `envConfig` it also names the variable (and file) the
 * option came from; a file that cannot be read is a `ConfigError`.
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

const configError = (issue: Settings.Issue): IocmHttpConfigError => new IocmHttpConfigError(issue)

/**
 * Bounds each request by one deadline of `timeout`, from sending it to the end of its body: a request with
 * no response by then fails with an `HttpClientError` whose reason is a `TransportError`, a body still
 * being read (even one that trickles in) with one whose reason is a `DecodeError`, both described
 * "request timed out: no complete answer within …"; either way the request is interrupted, which aborts it
 * on the wire. One timer per request, cleared as soon as its body has been read — and none for a request
 * sent inside a login or refresh whose own bound (`IocmAuth.CallDeadline`) comes no later: that bound
 * already interrupts it.
 *
 * @since 0.1.0
 * @category Combinators
 */
export const withTimeout: (
  timeout: Duration.Input
) => <E, R>(
  self: HttpClient.HttpClient.With<E, R>
) => HttpClient.HttpClient.With<E | HttpClientError.HttpClientError, R> = Deadline.withTimeout

/**
 * Builds the undici-backed client; its connection pool is closed when the scope closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<HttpClient.HttpClient, IocmHttpConfigError, Scope.Scope> =>
  Effect.mapError(Client.make(options), configError)

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

/**
 * The options from the environment, the default of `layerConfig`:
 *
 * - `IOCM_CA_FILE`: PEM file(s) of the CAs to trust, comma separated
 * - `IOCM_CERT_FILE` + `IOCM_KEY_FILE` (PEM), or `IOCM_PFX_FILE` (PKCS#12): the client identity
 * - `IOCM_PASSPHRASE` (redacted): of the PKCS#12 file or of an encrypted key
 * - `IOCM_VERIFY_HOSTNAME`: `false` skips only the host name check; `IOCM_SERVER_NAME`: the name to check
 * - `IOCM_TIMEOUT`, `IOCM_CONNECT_TIMEOUT`: durations such as `30 seconds`, or a number of seconds;
 *   `IOCM_CONNECTIONS`: the pool size
 * - `HTTPS_PROXY` / `https_proxy` and `NO_PROXY` / `no_proxy`
 *
 * The files are read when the layer is built; one that cannot be read fails it with a `ConfigError` naming
 * the variable and the file, and an `IocmHttpConfigError` about an option read here names its variable
 * (and file).
 *
 * @since 0.2.0
 * @category Config
 */
export const envConfig: Config.Config<Options> = Env.config

/**
 * The `HttpClient` on undici (Node), configured through `Config`: by default `envConfig` (the `IOCM_*`
 * variables), or the caller's own, one `Config` per option.
 *
 * @example
 * ```ts
 * import { IocmHttp } from "@iocm/http"
 * import { Config } from "effect"
 *
 * const HttpLive = IocmHttp.layerConfig({
 *   timeout: Config.Duration("PLATFORM_TIMEOUT"),
 *   connections: Config.Int("PLATFORM_POOL").pipe(Config.withDefault(50))
 * })
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  config: Config.Wrap<Options> = envConfig
): Layer.Layer<HttpClient.HttpClient, Config.ConfigError | IocmHttpConfigError> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.flatMap(
      Config.unwrap(config),
      (options) => Effect.mapError(Client.make(options), (issue) => configError(Env.locate(options, issue)))
    )
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
export const layerFetch: Layer.Layer<HttpClient.HttpClient> = Layer.effect(HttpClient.HttpClient, Client.fromFetch)
  .pipe(
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" }))
  )

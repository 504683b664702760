/**
 * The token lifecycle of a Network Application: `yield* TokenService.get` anywhere and receive a
 * valid access token, without ever thinking about expiry.
 *
 * - **No I/O while the token is fresh**: `get` reads a synchronous copy of the state and the `Clock`.
 * - **Proactive**: a background fiber refreshes at `expiresAt − refreshLead − jitter`; it never
 *   dies, and while the token is valid callers get it at once even if refreshes are failing.
 * - **Single flight**: at most one login or refresh at a time (the platform invalidates the
 *   previous access token on each); every caller awaits the same outcome, and the request runs
 *   in the service's own fiber, so an interrupted caller never cancels it.
 * - **Retrying**: `RefreshPolicy.classify` decides; retryable errors back off on the policy's
 *   `Schedule`; a refused, missing or expired refresh token leads to one login; credentials and
 *   frozen accounts are terminal, and a terminal error never withholds a still-valid token.
 * - **Authenticated client**: `authenticated` signs business calls and replays once on 403/1010005.
 *
 * @since 0.1.0
 */
import type * as IocmAuth from "@iocm/core/IocmAuth"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import type { TokenSet } from "@iocm/core/TokenSet"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as internalAuthenticated from "./internal/authenticated.js"
import * as internal from "./internal/tokenService.js"
import * as RefreshPolicy from "./RefreshPolicy.js"
import type { TokenError } from "./TokenError.js"
import type { Reason, TokenEvent } from "./TokenEvent.js"
import type { TokenStore } from "./TokenStore.js"

/**
 * An access token with its generation, which grows by one with every token obtained: pass it to
 * `invalidate` when the platform refuses the token, so that only that token is dropped.
 *
 * @since 0.1.0
 * @category Models
 */
export interface AccessToken {
  readonly token: Redacted.Redacted<string>
  readonly generation: number
  /** When the token expires, epoch ms (counted from when its request was sent). */
  readonly expiresAt: number
}

/**
 * The token service.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /**
   * The current access token. Fresh: at once, no I/O. Inside the forced window, expired or absent:
   * awaits the login or refresh in flight (starting one if none), and falls back to the current
   * token if that fails while it is still valid; with no valid token it waits across failed
   * attempts for up to `coldStartWait` (counted from when the flight it joins was requested).
   * After a terminal error: the still-valid token until it expires, then the error at once. After
   * the service's scope closed: the still-valid token, else the terminal error, else interrupted.
   */
  readonly get: Effect.Effect<AccessToken, TokenError>
  /** Forces a refresh (or joins the one in flight) and clears a terminal state; fails with its error. */
  readonly refresh: Effect.Effect<AccessToken, TokenError>
  /**
   * Drops the access token if it is still the one of `generation` (compare-and-invalidate) and
   * starts obtaining a new one — unless a flight in progress, a back-off, a terminal state or a
   * closed service already decides when; `true` when it dropped it. The refresh token is kept.
   */
  readonly invalidate: (generation: number, reason?: Reason | undefined) => Effect.Effect<boolean>
  /** The token set in force, if any. */
  readonly current: Effect.Effect<Option.Option<TokenSet>>
  /** Every change of the token state, from the moment the stream is run. */
  readonly changes: Stream.Stream<TokenEvent>
}

/**
 * The token service as a service.
 *
 * @since 0.1.0
 * @category Tags
 */
export class TokenService extends Context.Service<TokenService, Service>()("@iocm/cache/TokenService") {}

/**
 * Builds the service in the current scope; closing the scope interrupts its background fiber and
 * any login or refresh in flight, and from then on a `get` or `refresh` that would need a new token
 * is interrupted at once (a still-valid token keeps being served). Fails with
 * `InvalidRefreshPolicy` when an option of the policy is not valid.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make: (
  policy?: RefreshPolicy.Options | RefreshPolicy.RefreshPolicy | undefined
) => Effect.Effect<Service, RefreshPolicy.InvalidRefreshPolicy, IocmAuth.IocmAuth | TokenStore | Scope.Scope> =
  internal.make

/**
 * The service, from the auth API and a token store (`TokenStore.layerMemory` for one process).
 *
 * @example
 * ```ts
 * import { TokenService, TokenStore } from "@iocm/cache"
 * import { Layer } from "effect"
 *
 * const TokensLive = TokenService.layer({ refreshLead: "5 minutes" }).pipe(
 *   Layer.provide(TokenStore.layerMemory)
 * )
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  policy?: RefreshPolicy.Options | RefreshPolicy.RefreshPolicy | undefined
): Layer.Layer<TokenService, RefreshPolicy.InvalidRefreshPolicy, IocmAuth.IocmAuth | TokenStore> =>
  Layer.effect(TokenService, make(policy))

/**
 * The service with its policy read through `config` (default `RefreshPolicy.envConfig`, the
 * `IOCM_*` variables); the caller may name its own variables. An invalid value fails the layer.
 *
 * @example
 * ```ts
 * import { TokenService } from "@iocm/cache"
 * import { Config, Duration } from "effect"
 *
 * // The app's own variable names; unnamed options keep their defaults.
 * const TokensLive = TokenService.layerConfig({
 *   refreshLead: Config.Duration("TOKEN_REFRESH_LEAD").pipe(Config.withDefault(Duration.minutes(5)))
 * })
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  config: Config.Wrap<RefreshPolicy.Options> = RefreshPolicy.envConfig
): Layer.Layer<
  TokenService,
  Config.ConfigError | RefreshPolicy.InvalidRefreshPolicy,
  IocmAuth.IocmAuth | TokenStore
> => Layer.effect(TokenService, Effect.flatMap(Config.unwrap(config), make))

/**
 * The current access token (see `Service.get`).
 *
 * @since 0.1.0
 * @category Accessors
 */
export const get: Effect.Effect<AccessToken, TokenError, TokenService> = Effect.flatMap(
  TokenService,
  (service) => service.get
)

/**
 * Forces a refresh (see `Service.refresh`).
 *
 * @since 0.1.0
 * @category Accessors
 */
export const refresh: Effect.Effect<AccessToken, TokenError, TokenService> = Effect.flatMap(
  TokenService,
  (service) => service.refresh
)

/**
 * Compare-and-invalidate (see `Service.invalidate`).
 *
 * @since 0.1.0
 * @category Accessors
 */
export const invalidate = (
  generation: number,
  reason?: Reason | undefined
): Effect.Effect<boolean, never, TokenService> =>
  Effect.flatMap(TokenService, (service) => service.invalidate(generation, reason))

/**
 * The token set in force, if any.
 *
 * @since 0.1.0
 * @category Accessors
 */
export const current: Effect.Effect<Option.Option<TokenSet>, never, TokenService> = Effect.flatMap(
  TokenService,
  (service) => service.current
)

/**
 * The stream of token events (see `TokenEvent`).
 *
 * @since 0.1.0
 * @category Accessors
 */
export const changes: Stream.Stream<TokenEvent, never, TokenService> = Stream.unwrap(
  Effect.map(TokenService, (service) => service.changes)
)

/**
 * `HttpClient → HttpClient` middleware: `client` with every request signed by the `TokenService`
 * and the app key of the `PlatformConfig` found in the context of the request: the app-key header
 * and `Authorization: Bearer`. On 403/1010005 or 401/100002 it invalidates the generation it sent,
 * awaits a fresh token (single flight) and replays the request once; a second refusal is returned
 * as is. Requests with a streamed body are not replayed. Put status filters and retries after it, so that it sees the 403 first.
 * `Authorization` stays redacted in spans and logs.
 *
 * @example
 * ```ts
 * import { TokenService } from "@iocm/cache"
 * import { PlatformConfig, Wire } from "@iocm/core"
 * import { Effect } from "effect"
 * import * as HttpClient from "effect/http/HttpClient"
 * import * as HttpClientRequest from "effect/http/HttpClientRequest"
 *
 * const devices = Effect.gen(function*() {
 *   const config = yield* PlatformConfig.PlatformConfig
 *   const client = (yield* HttpClient.HttpClient).pipe(
 *     HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
 *     TokenService.authenticated,
 *     HttpClient.filterStatusOk
 *   )
 *   return yield* client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } })
 * })
 * ```
 *
 * @since 0.1.0
 * @category Combinators
 */
export const authenticated = <E, R>(
  client: HttpClient.HttpClient.With<E, R>
): HttpClient.HttpClient.With<E | TokenError, R | TokenService | PlatformConfig.PlatformConfig> =>
  HttpClient.makeWith<never, never, E | TokenError, R | TokenService | PlatformConfig.PlatformConfig>(
    (request) =>
      Effect.flatMap(request, (request) =>
        // One context read per request; nothing is rebuilt.
        Effect.contextWith((context: Context.Context<TokenService | PlatformConfig.PlatformConfig>) =>
          internalAuthenticated.execute(
            client,
            Context.get(context, TokenService),
            Context.get(context, PlatformConfig.PlatformConfig),
            request
          )
        )),
    Effect.succeed
  )

/**
 * Replaces the `HttpClient` in the context with its authenticated version (see `authenticated`),
 * bound to the `TokenService` and `PlatformConfig` of the layer's context. As
 * `HttpClient.HttpClient` can only fail with `HttpClientError`, a `TokenError` surfaces as an
 * `HttpClientError` with a `TransportError` reason whose `cause` is the `TokenError`; use
 * `authenticated` to keep it typed.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerAuthenticatedClient: Layer.Layer<
  HttpClient.HttpClient,
  never,
  HttpClient.HttpClient | TokenService | PlatformConfig.PlatformConfig
> = Layer.effect(
  HttpClient.HttpClient,
  Effect.gen(function*() {
    const client = internalAuthenticated.make(
      yield* HttpClient.HttpClient,
      yield* TokenService,
      yield* PlatformConfig.PlatformConfig
    )
    return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
      (request) =>
        Effect.flatMap(request, (request) =>
          client.execute(request).pipe(
            Effect.mapError((error) =>
              HttpClientError.isHttpClientError(error)
                ? error
                : new HttpClientError.HttpClientError({
                  reason: new HttpClientError.TransportError({ request, cause: error, description: error.message })
                })
            )
          )),
      Effect.succeed
    )
  })
)

/**
 * The platform's Authentication (login) and Refreshing a Token APIs as Effects. One request per
 * call, no caching and no retries: those belong to `@iocm/cache`'s `TokenService`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { readTokenResponse, transportError } from "./internal/response.js"
import { validateParameter } from "./internal/validate.js"
import { type LoginError, type RefreshError, TransportError, UnknownPlatformError } from "./IocmError.js"
import { type InvalidPlatformConfig, PlatformConfig, validateBaseUrl } from "./PlatformConfig.js"
import { TokenSet } from "./TokenSet.js"
import { loginPath, refreshPath, type TokenResponse } from "./Wire.js"

/**
 * The auth API of the platform.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** `POST /iocm/app/sec/v1.1.0/login` with the configured appId and secret. */
  readonly login: Effect.Effect<TokenSet, LoginError>
  /** `POST /iocm/app/sec/v1.1.0/refreshToken` with the configured appId and secret and this refresh token. */
  readonly refresh: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<TokenSet, RefreshError>
}

/**
 * The auth API of the platform as a service.
 *
 * @since 0.1.0
 * @category Tags
 */
export class IocmAuth extends Context.Service<IocmAuth, Service>()("@iocm/core/IocmAuth") {}

const outcome = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(
    Effect.tap(() => Effect.annotateCurrentSpan("outcome", "success")),
    Effect.tapError((error) => Effect.annotateCurrentSpan("outcome", error._tag))
  )

/**
 * Asks a fetch-based client not to follow redirects (on a 307 fetch would re-send the body, secret
 * included, to wherever the redirect points). Keeps any `RequestInit` the fiber already has; other
 * clients ignore it, and undici's and Node's do not follow redirects anyway.
 */
const withoutRedirects = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(self, FetchHttpClient.RequestInit, {
        ...Option.getOrElse(init, () => ({})),
        redirect: "manual"
      })
  )

/** 100006 means nothing for a login: it is an unknown code there, retryable when 5xx like any other. */
const toLoginError = (error: RefreshError): LoginError =>
  error._tag === "RefreshTokenRejected"
    ? new UnknownPlatformError({
      code: error.code,
      httpStatus: error.httpStatus,
      description: error.description,
      retryable: error.httpStatus !== undefined && error.httpStatus >= 500
    })
    : error

/**
 * Builds the service from the abstract `HttpClient` and `PlatformConfig`. Fails when the base URL
 * is refused (plain http to a host that is not loopback).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make: Effect.Effect<Service, InvalidPlatformConfig, HttpClient.HttpClient | PlatformConfig> = Effect.gen(
  function*() {
    const config = yield* PlatformConfig
    const baseUrl = yield* validateBaseUrl(config.baseUrl)
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.acceptJson))
    const refreshLifetimeMillis = Duration.toMillis(config.refreshTokenLifetime)
    // No stack trace per span: it would point into this file, and capturing it was a tenth of a call's CPU.
    // (So no `Effect.fn` either: it captures a stack on every call.)
    const traced = (name: string) =>
      Effect.withSpan(name, { kind: "client", attributes: { appId: config.appId } }, { captureStackTrace: false })

    const timedOut = () =>
      new TransportError({
        code: "Timeout",
        description: `The request timed out: no complete answer within ${Duration.format(config.requestTimeout)}.`
      })

    /** One request and its answer, bounded as a whole by `requestTimeout` (interrupted, so aborted, when it fires). */
    const exchange = (request: HttpClientRequest.HttpClientRequest, known: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const issuedAt = yield* Clock.currentTimeMillis
        const response = yield* client.execute(request).pipe(
          withoutRedirects,
          Effect.mapError((error) => transportError(error, known))
        )
        const body: TokenResponse = yield* readTokenResponse(response, known)
        // The fields were just decoded: their checks are not run again (the structure still is).
        return new TokenSet({
          accessToken: body.accessToken,
          refreshToken: body.refreshToken,
          tokenType: body.tokenType,
          scope: body.scope,
          expiresIn: body.expiresIn,
          issuedAt,
          refreshTokenLifetimeMillis: refreshLifetimeMillis
        }, { disableChecks: true })
      }).pipe(Effect.timeoutOrElse({ duration: config.requestTimeout, orElse: () => Effect.fail(timedOut()) }))

    const credentials = Effect.all({
      appId: validateParameter("appId", config.appId),
      secret: validateParameter("secret", Redacted.value(config.secret))
    })

    const login: Effect.Effect<TokenSet, LoginError> = Effect.gen(function*() {
      const { appId, secret } = yield* credentials
      const request = HttpClientRequest.post(baseUrl + loginPath).pipe(
        HttpClientRequest.bodyUrlParams({ appId, secret })
      )
      return yield* exchange(request, [secret]).pipe(Effect.mapError(toLoginError))
    }).pipe(outcome, traced("iocm.login"))

    const refresh: Service["refresh"] = Effect.fnUntraced(
      function*(refreshToken: Redacted.Redacted<string>) {
        const { appId, secret } = yield* credentials
        // A plain string from an untyped caller is taken as the token, not as a missing one.
        const token = yield* validateParameter(
          "refreshToken",
          Redacted.isRedacted(refreshToken) ? Redacted.value(refreshToken) : refreshToken
        )
        const request = HttpClientRequest.post(baseUrl + refreshPath).pipe(
          HttpClientRequest.bodyJsonUnsafe({ appId, secret, refreshToken: token })
        )
        return yield* exchange(request, [secret, token])
      },
      outcome,
      traced("iocm.refresh")
    )

    return { login, refresh }
  }
)

/**
 * The service over any `HttpClient` (see `@iocm/http` for the platform's TLS needs).
 *
 * @example
 * ```ts
 * import { IocmAuth, PlatformConfig } from "@iocm/core"
 * import { Effect, Layer, Option } from "effect"
 * import * as FetchHttpClient from "effect/http/FetchHttpClient"
 *
 * const program = Effect.gen(function*() {
 *   const auth = yield* IocmAuth.IocmAuth
 *   const tokens = yield* auth.login
 *   return yield* auth.refresh(Option.getOrThrow(tokens.refreshToken))
 * })
 *
 * program.pipe(
 *   Effect.provide(IocmAuth.layer),
 *   Effect.provide(Layer.merge(PlatformConfig.layerConfig, FetchHttpClient.layer))
 * )
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer: Layer.Layer<IocmAuth, InvalidPlatformConfig, HttpClient.HttpClient | PlatformConfig> = Layer
  .effect(IocmAuth, make)

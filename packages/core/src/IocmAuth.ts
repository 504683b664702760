/**
 * The platform's Authentication (login) and Refreshing a Token APIs as Effects. One request per
 * call, no caching and no retries: those belong to `@iocm/cache`'s `TokenService`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { constTrue } from "effect/Function"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Tracer from "effect/Tracer"
import * as Deadline from "./internal/deadline.js"
import { readTokenResponse, transportError } from "./internal/response.js"
import * as TrustedTokenSet from "./internal/trustedTokenSet.js"
import { validateParameter } from "./internal/validate.js"
import {
  type LoginError,
  type RefreshError,
  timeoutDescription,
  TransportError,
  UnknownPlatformError
} from "./IocmError.js"
import { type InvalidPlatformConfig, PlatformConfig, type Settings, validateBaseUrl } from "./PlatformConfig.js"
import type { TokenSet } from "./TokenSet.js"
import { encodeLoginRequest, encodeRefreshRequest, loginPath, refreshPath, type TokenResponse } from "./Wire.js"

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

/** Sets the span's `outcome`: "success", or the tag of the error (a defect or an interruption sets none). */
const annotateOutcome = (span: Tracer.Span, exit: Exit.Exit<unknown, { readonly _tag: string }>): void => {
  if (Exit.isSuccess(exit)) return span.attribute("outcome", "success")
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error)) span.attribute("outcome", error.value._tag)
}

/**
 * Runs `self` in a client span named `name`, with the appId, the HTTP method and URL of its request
 * and the outcome as attributes (`exchange` adds the response's status). No stack trace is captured:
 * it would point into this file, and capturing it was a tenth of a call's CPU (so no `Effect.fn`
 * either: it captures a stack on every call). The outcome is set from the exit, in one step rather
 * than a tap for each side.
 */
const traced = (name: string, appId: string, url: string) => {
  const options: Tracer.SpanOptionsNoTrace = {
    kind: "client",
    attributes: { appId, "http.request.method": "POST", "url.full": url }
  }
  return <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.useSpan(name, options, (span) =>
      Effect.onExit(
        Effect.withParentSpan(self, span, { captureStackTrace: false }),
        (exit) => Effect.sync(() => annotateOutcome(span, exit))
      ))
}

/**
 * When the login or refresh under way must be over: epoch milliseconds of the live clock
 * (`Date.now()`), set by `IocmAuth` around each request it sends, which it interrupts (aborting the
 * request) then. A transport whose own deadline would not fire earlier may leave it off, so that a
 * call has one timer: `@iocm/http` does.
 *
 * @since 0.2.0
 * @category References
 */
export const CallDeadline: Context.Reference<number | undefined> = Context.Reference<number | undefined>(
  "@iocm/core/IocmAuth/CallDeadline",
  { defaultValue: () => undefined }
)

/** What `forOurRequest` gives a fiber that has no `RequestInit` of its own (shared: it is never mutated). */
const manualRedirects: globalThis.RequestInit = { redirect: "manual" }

/** The fiber's `RequestInit` with `redirect: "manual"`, keeping the rest (the same context when it already says so). */
const withManualRedirects = <R>(context: Context.Context<R>): Context.Context<R> => {
  const init = Context.getOrUndefined(context, FetchHttpClient.RequestInit)
  if (init?.redirect === "manual") return context
  const manual = init === undefined ? manualRedirects : { ...init, redirect: "manual" as const }
  return Context.add(context, FetchHttpClient.RequestInit, manual)
}

/**
 * Runs a login or refresh request the way it must be sent, whatever the `HttpClient`, in one
 * context update (with its `CallDeadline`, `timeoutMillis` from now):
 * - a fetch-based client does not follow redirects (on a 307 fetch would re-send the body, secret
 *   included, to wherever the redirect points); other clients ignore its `RequestInit`, and undici's
 *   and Node's do not follow redirects anyway;
 * - no client opens its `http.client` span: that span ends with the client's error, whose JSON form
 *   holds the request and its body (appId, secret, refresh token), for any exporter to send. The
 *   `iocm.login` and `iocm.refresh` spans carry the HTTP attributes instead.
 */
const forOurRequest = (timeoutMillis: number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.updateContext(
    self,
    (context: Context.Context<R>) =>
      Context.add(
        Context.add(withManualRedirects(context), HttpClient.TracerDisabledWhen, constTrue),
        CallDeadline,
        Date.now() + timeoutMillis
      )
  )

/** Sets the status of the response on the current span (the `iocm.login` or `iocm.refresh` one). */
const annotateStatus = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.annotateCurrentSpan("http.response.status_code", response.status)

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

/** The token set of a decoded response: its fields were just decoded, so they are not parsed again. */
const tokenSetOf = (body: TokenResponse, issuedAt: number, refreshTokenLifetimeMillis: number): TokenSet =>
  TrustedTokenSet.make({
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    tokenType: body.tokenType,
    scope: body.scope,
    expiresIn: body.expiresIn,
    issuedAt,
    refreshTokenLifetimeMillis
  })

/** The configured appId and secret, validated once: the outcome (typed errors included) of every call. */
const validateCredentials = (config: Settings) =>
  Effect.exit(Effect.all({
    appId: validateParameter("appId", config.appId),
    secret: validateParameter("secret", Redacted.value(config.secret))
  }))

/**
 * Builds the service from the abstract `HttpClient` and `PlatformConfig`. Fails when the base URL
 * is refused (plain http to a host that is not loopback). An appId or a secret that is refused does
 * not fail the service: each call fails with `MissingParameter` or `InvalidInput`, before any I/O.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make: Effect.Effect<Service, InvalidPlatformConfig, HttpClient.HttpClient | PlatformConfig> = Effect.gen(
  function*() {
    const config = yield* PlatformConfig
    const baseUrl = yield* validateBaseUrl(config.baseUrl)
    const client = yield* HttpClient.HttpClient
    const credentials = yield* validateCredentials(config)
    const loginUrl = baseUrl + loginPath
    const refreshUrl = baseUrl + refreshPath
    const refreshRequest = HttpClientRequest.post(refreshUrl)
    const refreshLifetimeMillis = Duration.toMillis(config.refreshTokenLifetime)
    // The login's request never changes: built once, when the credentials are valid.
    const loginRequest = Exit.map(credentials, ({ appId, secret }) => ({
      request: HttpClientRequest.bodyUrlParams(
        HttpClientRequest.post(loginUrl),
        encodeLoginRequest({ appId, secret: config.secret })
      ),
      known: [secret]
    }))

    const timedOut = () =>
      new TransportError({
        code: "Timeout",
        description: timeoutDescription(config.requestTimeout)
      })
    const timeoutMillis = Duration.toMillis(config.requestTimeout)
    const withinRequestTimeout = Deadline.within(timeoutMillis, timedOut)
    const sentAsOurs = forOurRequest(timeoutMillis)

    /** One request and its answer, bounded as a whole by `requestTimeout` (interrupted, so aborted, when it fires). */
    const exchange = (request: HttpClientRequest.HttpClientRequest, known: ReadonlyArray<string>) =>
      Effect.flatMap(Clock.currentTimeMillis, (issuedAt) =>
        client.execute(HttpClientRequest.acceptJson(request)).pipe(
          sentAsOurs,
          Effect.mapError((error) => transportError(error, known)),
          Effect.tap(annotateStatus),
          Effect.flatMap((response) => readTokenResponse(response, known)),
          Effect.map((body) => tokenSetOf(body, issuedAt, refreshLifetimeMillis))
        )).pipe(withinRequestTimeout)

    const login: Effect.Effect<TokenSet, LoginError> = Effect.gen(function*() {
      const { known, request } = yield* loginRequest
      return yield* exchange(request, known).pipe(Effect.mapError(toLoginError))
    }).pipe(traced("iocm.login", config.appId, loginUrl))

    const refresh: Service["refresh"] = Effect.fnUntraced(
      function*(refreshToken: Redacted.Redacted<string>) {
        const { appId, secret } = yield* credentials
        // A plain string from an untyped caller is taken as the token, not as a missing one.
        const redacted = Redacted.isRedacted(refreshToken) ? refreshToken : Redacted.make(refreshToken)
        const token = yield* validateParameter("refreshToken", Redacted.value(redacted))
        const request = HttpClientRequest.bodyJsonUnsafe(
          refreshRequest,
          encodeRefreshRequest({ appId, secret: config.secret, refreshToken: redacted })
        )
        return yield* exchange(request, [secret, token])
      },
      traced("iocm.refresh", config.appId, refreshUrl)
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
 *   Effect.provide(Layer.merge(PlatformConfig.layerConfig(), FetchHttpClient.layer))
 * )
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer: Layer.Layer<IocmAuth, InvalidPlatformConfig, HttpClient.HttpClient | PlatformConfig> = Layer
  .effect(IocmAuth, make)

/**
 * The simulator's HTTP surface: login, refresh, the device query, the control API, and the
 * platform-style answers for everything else (unknown routes, oversized bodies, defects).
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Wire from "@iocm/core/Wire"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as FindMyWay from "effect/http/FindMyWay"
import * as HttpRouter from "effect/http/HttpRouter"
import type * as HttpServerError from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { CountedEndpoint, Endpoint, Faults, Simulator } from "../Simulator.js"
import * as Body from "./body.js"
import type { CounterRegistry } from "./counters.js"
import { parse as parseDuration } from "./duration.js"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { reject, specs } from "./errors.js"
import { type FaultAction, type FaultRegistry, maxLatency } from "./faults.js"
import type { Issued, Platform } from "./platform.js"
import { randomToken } from "./platform.js"

/** @internal */
export interface RouterSettings {
  readonly maxBodySize: number
  readonly appKeyHeader: string
  readonly businessErrorKeys: "error_code" | "resultcode"
  readonly controlApi: boolean
  readonly logRequests: boolean
}

/** @internal */
export type Control = Pick<
  Simulator.Service,
  | "registerApp"
  | "freezeApp"
  | "unfreezeApp"
  | "revokeTokens"
  | "setFaults"
  | "clearFaults"
  | "counters"
  | "resetCounters"
>

/** @internal */
export interface RouterDeps {
  readonly platform: Platform
  readonly faults: FaultRegistry
  readonly counters: CounterRegistry
  readonly control: Control
  readonly settings: RouterSettings
}

/** @internal */
export const controlPrefix = "/_simulator"

interface Answer {
  readonly outcome: string
  readonly response: HttpServerResponse.HttpServerResponse
  readonly reset?: boolean
}

const errorResponse = (spec: ErrorSpec, keys: "error_code" | "resultcode" = "error_code") =>
  HttpServerResponse.jsonUnsafe(
    keys === "resultcode"
      ? { resultcode: spec.code, resultmsg: spec.description }
      : Wire.encodeErrorBody({ code: spec.code, description: spec.description }),
    { status: spec.status }
  )

const outcomeOf = (spec: ErrorSpec): string => spec === specs.bodyTooLarge ? "bodyTooLarge" : spec.code

const rejected = (keys: "error_code" | "resultcode" = "error_code") => (e: PlatformReject): Answer => ({
  outcome: outcomeOf(e.spec),
  response: errorResponse(e.spec, keys)
})

const proxyPage = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

const sampleBody = (endpoint: Endpoint): string =>
  endpoint === "devices"
    ? JSON.stringify({ totalCount: 0, pageNo: 0, pageSize: 10, devices: [] })
    : JSON.stringify({
      accessToken: randomToken(),
      tokenType: "bearer",
      expiresIn: 3600,
      refreshToken: randomToken(),
      scope: "default"
    })

const faultAnswer = (endpoint: Endpoint, action: FaultAction): Answer => {
  switch (action) {
    case "error":
      return { outcome: specs.internal.code, response: errorResponse(specs.internal) }
    case "html":
      return {
        outcome: "html",
        response: HttpServerResponse.text(proxyPage, { status: 502, contentType: "text/html" })
      }
    case "truncate": {
      // A well-framed 200 whose JSON stops in the middle, as when a proxy cuts the body.
      const body = sampleBody(endpoint)
      return {
        outcome: "truncate",
        response: HttpServerResponse.text(body.slice(0, Math.floor(body.length / 2)), {
          status: 200,
          contentType: "application/json"
        })
      }
    }
    case "reset":
      return { outcome: "reset", response: HttpServerResponse.empty(), reset: true }
  }
}

/**
 * The token response's fields as `Wire.TokenResponse` encodes them, built directly: a schema
 * encode and two `Redacted` wraps per answer were a sixth of a token request's CPU. A test holds
 * the bytes to the schema's encoding.
 *
 * @internal
 */
export const tokenFields = (issued: Issued): typeof Wire.TokenResponse.Encoded => ({
  accessToken: issued.session.accessToken,
  tokenType: "bearer",
  expiresIn: issued.expiresIn,
  refreshToken: issued.session.refreshToken,
  scope: "default"
})

const tokenResponse = (issued: Issued) => HttpServerResponse.jsonUnsafe(tokenFields(issued))

/** The request target as the client sent it, without its query (`request.url` drops an absolute form's origin). */
const pathOf = (request: HttpServerRequest.HttpServerRequest): string => {
  const url = NodeHttpServerRequest.toIncomingMessage(request).url ?? ""
  const q = url.indexOf("?")
  return q === -1 ? url : url.slice(0, q)
}

const intParam = (value: string | ReadonlyArray<string> | undefined, fallback: number): number => {
  const n = Number(typeof value === "string" ? value : fallback)
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback
}

const Rate = Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })))

const nonNegative = Schema.isGreaterThanOrEqualTo(0)

const FaultsJson = Schema.Struct({
  errorRate: Schema.optional(Rate),
  latency: Schema.optional(Schema.Union([Schema.Number.pipe(Schema.check(nonNegative)), Schema.String])),
  reset: Schema.optional(Schema.Union([Schema.Boolean, Rate])),
  truncate: Schema.optional(Schema.Union([Schema.Boolean, Rate])),
  html: Schema.optional(Schema.Union([Schema.Boolean, Rate])),
  times: Schema.optional(Schema.Int.pipe(Schema.check(nonNegative)))
})

/** Control-API faults: rates in `0..1`, no unknown key (a misspelt one would be silently ignored). */
const decodeFaults = Schema.decodeUnknownExit(FaultsJson, { onExcessProperty: "error" })

const Parameter = Schema.NonEmptyString.pipe(Schema.check(Schema.isMaxLength(Wire.maxParameterLength)))

const AppJson = Schema.Struct({
  appId: Parameter,
  secret: Parameter,
  frozen: Schema.optional(Schema.Boolean)
})

const decodeApp = Schema.decodeUnknownExit(AppJson)

const loginFields = ["appId", "secret"] as const

// The login's form fields: like a servlet, it reads the first value of each.
const validateLogin = Body.validator(Wire.LoginRequest, loginFields, Wire.maxParameterLength)

const validateRefresh = Body.validator(
  Wire.RefreshRequest,
  ["appId", "secret", "refreshToken"],
  Wire.maxParameterLength
)

// The platform's paths are exact: a client that got the case or a slash wrong must find out
// here, not in production.
const routerConfig: Partial<FindMyWay.RouterConfig> = {
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false
}

/**
 * Builds the HTTP app once, in the given scope: the routes, then the platform-style answers for
 * unknown routes and defects around them. It fails only when interrupted.
 *
 * @internal
 */
export const make = (
  deps: RouterDeps
): Effect.Effect<
  Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    HttpServerError.HttpServerError,
    HttpServerRequest.HttpServerRequest | Scope.Scope
  >,
  never,
  Scope.Scope
> => {
  const { control, counters, faults, platform, settings } = deps

  const finish = (endpoint: CountedEndpoint, start: number, answer: Answer) =>
    Effect.gen(function*() {
      yield* counters.record(endpoint, answer.outcome)
      if (!settings.logRequests && !answer.reset) return answer.response
      const request = yield* HttpServerRequest.HttpServerRequest
      if (settings.logRequests) {
        const elapsed = (yield* Clock.currentTimeMillis) - start
        const status = answer.reset ? "---" : String(answer.response.status)
        // Method, path, status and outcome only: never headers, bodies or query strings.
        yield* Effect.logInfo(`${request.method} ${pathOf(request)} ${status} ${answer.outcome} ${elapsed}ms`)
      }
      if (answer.reset) {
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
      }
      return answer.response
    })

  const guard = (
    endpoint: Endpoint,
    keys: "error_code" | "resultcode",
    handler: Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      PlatformReject,
      HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams
    >
  ) => {
    // Built once per route, not per request.
    const handled = handler.pipe(
      Effect.map((response): Answer => ({ outcome: "ok", response })),
      Effect.catchTag("PlatformReject", (e) => Effect.succeed(rejected(keys)(e))),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.as(
            Effect.logError("simulator defect", Cause.pretty(cause)),
            rejected()(reject(specs.internal))
          )
      )
    )
    return Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const decision = yield* faults.decide(endpoint)
      if (!Duration.isZero(decision.latency)) {
        yield* Effect.sleep(decision.latency)
      }
      const answer = decision.action !== undefined ? faultAnswer(endpoint, decision.action) : yield* handled
      return yield* finish(endpoint, start, answer)
    })
  }

  const login = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Body.readText(request, settings.maxBodySize)
    // Like a servlet's form parameters: a body of any other type carries no field, so 102202.
    const form = Body.hasContentType(request, "application/x-www-form-urlencoded") ? text : ""
    const input = yield* validateLogin(Body.formFields(form, loginFields))
    return tokenResponse(yield* platform.login(input.appId, input.secret))
  })

  const refresh = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Body.readText(request, settings.maxBodySize)
    if (!Body.hasContentType(request, "application/json")) {
      return yield* reject(specs.invalidInput)
    }
    const input = yield* validateRefresh(yield* Body.jsonObject(text))
    return tokenResponse(yield* platform.refresh(input.appId, input.secret, input.refreshToken))
  })

  const devices = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const appKey = request.headers[settings.appKeyHeader.toLowerCase()]
    if (appKey === undefined || appKey === "") {
      return yield* reject(specs.missingAppKey)
    }
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(request.headers["authorization"] ?? "")
    if (bearer === null || bearer[1] === undefined) {
      return yield* reject(specs.invalidToken)
    }
    yield* platform.authorize(appKey, bearer[1])
    const search = yield* HttpServerRequest.ParsedSearchParams
    return HttpServerResponse.jsonUnsafe({
      totalCount: 0,
      pageNo: intParam(search["pageNo"], 0),
      pageSize: intParam(search["pageSize"], 10),
      devices: []
    })
  })

  // --- control API: plain JSON, counted as "other", never reveals a token or a secret -------

  const controlAnswer = <R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, PlatformReject, R>) => {
    const handled = handler.pipe(
      Effect.map((response): Answer => ({ outcome: "control", response })),
      Effect.catchTag("PlatformReject", (e) => Effect.succeed(rejected()(e)))
    )
    return Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const answer = yield* handled
      return yield* finish("other", start, answer)
    })
  }

  const jsonBody = Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request) => Effect.flatMap(Body.readText(request, settings.maxBodySize), Body.jsonObject)
  )

  const noContent = HttpServerResponse.empty({ status: 204 })

  const notFoundApp = (appId: string) =>
    Effect.mapError(() => reject({ ...specs.notFound, description: `No app ${appId}.` }))

  const counterSnapshot = Effect.map(control.counters, (c) => ({
    requests: c.requests,
    logins: c.logins,
    refreshes: c.refreshes,
    businessCalls: c.businessCalls,
    tokens: Object.fromEntries(
      Object.entries(c.tokens).map(([appId, t]) => [appId, {
        issuedAt: t.issuedAt,
        accessTokenExpiresAt: t.accessTokenExpiresAt,
        refreshTokenExpiresAt: t.refreshTokenExpiresAt,
        accessTokenValid: t.accessTokenValid
      }])
    )
  }))

  const setFaults = Effect.gen(function*() {
    const params = yield* HttpRouter.params
    const endpoint = params["endpoint"]
    if (endpoint !== "login" && endpoint !== "refresh" && endpoint !== "devices" && endpoint !== "all") {
      return yield* reject({ ...specs.notFound, description: "Unknown endpoint." })
    }
    const json = yield* jsonBody
    const input = yield* decodeFaults(json).pipe(Effect.mapError(() => reject(specs.invalidInput)))
    let latency: Duration.Duration | undefined = undefined
    if (typeof input.latency === "string") {
      latency = yield* Option.match(parseDuration(input.latency), {
        onNone: () => Effect.fail(reject(specs.invalidInput)),
        onSome: Effect.succeed
      })
    } else if (input.latency !== undefined) {
      latency = Duration.millis(input.latency)
    }
    if (latency !== undefined && Duration.isGreaterThan(latency, maxLatency)) {
      return yield* reject({
        ...specs.invalidInput,
        description: `Latency must be at most ${Duration.format(maxLatency)}.`
      })
    }
    const faults: Faults = { ...input, latency }
    yield* control.setFaults(endpoint, faults)
    return noContent
  })

  const appAction = (action: (appId: string) => Effect.Effect<void, Cause.NoSuchElementError>) =>
    Effect.gen(function*() {
      const appId = (yield* HttpRouter.params)["appId"] ?? ""
      yield* action(appId).pipe(notFoundApp(appId))
      return noContent
    })

  const apiRoutes = [
    HttpRouter.route("POST", Wire.loginPath, guard("login", "error_code", login)),
    HttpRouter.route("POST", Wire.refreshPath, guard("refresh", "error_code", refresh)),
    HttpRouter.route("GET", Wire.devicesPath, guard("devices", settings.businessErrorKeys, devices))
  ]
  const controlRoutes = [
    HttpRouter.route(
      "GET",
      `${controlPrefix}/counters`,
      controlAnswer(Effect.map(counterSnapshot, (body) => HttpServerResponse.jsonUnsafe(body)))
    ),
    HttpRouter.route(
      "POST",
      `${controlPrefix}/counters/reset`,
      controlAnswer(Effect.as(control.resetCounters, noContent))
    ),
    HttpRouter.route("PUT", `${controlPrefix}/faults/:endpoint`, controlAnswer(setFaults)),
    HttpRouter.route("DELETE", `${controlPrefix}/faults`, controlAnswer(Effect.as(control.clearFaults, noContent))),
    HttpRouter.route(
      "POST",
      `${controlPrefix}/apps`,
      controlAnswer(Effect.gen(function*() {
        const json = yield* jsonBody
        const app = yield* decodeApp(json).pipe(Effect.mapError(() => reject(specs.invalidInput)))
        yield* control.registerApp(app)
        return noContent
      }))
    ),
    HttpRouter.route("POST", `${controlPrefix}/apps/:appId/freeze`, controlAnswer(appAction(control.freezeApp))),
    HttpRouter.route("POST", `${controlPrefix}/apps/:appId/unfreeze`, controlAnswer(appAction(control.unfreezeApp))),
    HttpRouter.route(
      "POST",
      `${controlPrefix}/apps/:appId/revoke`,
      controlAnswer(Effect.gen(function*() {
        const appId = (yield* HttpRouter.params)["appId"] ?? ""
        yield* control.revokeTokens(appId)
        return noContent
      }))
    ),
    HttpRouter.route("POST", `${controlPrefix}/revoke`, controlAnswer(Effect.as(control.revokeTokens(), noContent)))
  ]
  const routes = HttpRouter.addAll(settings.controlApi ? [...apiRoutes, ...controlRoutes] : apiRoutes)

  const knownPaths = new Map<string, string>([
    [Wire.loginPath, "POST"],
    [Wire.refreshPath, "POST"],
    [Wire.devicesPath, "GET"]
  ])

  const notFound = Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const request = yield* HttpServerRequest.HttpServerRequest
    const allow = knownPaths.get(pathOf(request))
    const answer: Answer = allow === undefined
      ? { outcome: "404", response: errorResponse(specs.notFound) }
      : {
        outcome: "405",
        response: errorResponse(specs.methodNotAllowed).pipe(HttpServerResponse.setHeader("allow", allow))
      }
    return yield* finish("other", start, answer)
  })

  // Unknown routes (the router finds no match for the method and path) get the platform-style
  // 404/405; a defect anywhere gets a 500 with the platform's body, never an empty one.
  const withFallbacks = (
    app: Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      HttpServerError.HttpServerError,
      HttpServerRequest.HttpServerRequest | Scope.Scope
    >
  ) =>
    app.pipe(
      Effect.catchReason("HttpServerError", "RouteNotFound", () => notFound),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.as(Effect.logError("simulator defect", Cause.pretty(cause)), errorResponse(specs.internal))
      )
    )

  return HttpRouter.toHttpEffect(routes).pipe(
    Effect.map(withFallbacks),
    Effect.provideService(HttpRouter.RouterConfig, routerConfig)
  )
}

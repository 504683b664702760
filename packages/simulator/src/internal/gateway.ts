/**
 * Authentication before routing, as the platform does it: every path under `/iocm/app/` (or the
 * device manager's `/iodm/app/`) but the security API's (`/iocm/app/sec/`, login and refresh) is a
 * business call. A business call to a known route gets that endpoint's faults first; then,
 * whatever the path, its `app_key` (401/100025) and `Authorization: Bearer` token (403/1010005)
 * are checked and the call is counted against the app's flow control (403/1010004); only then is
 * it routed: a known route answers, a known path with another method gets 405, any other path 404.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Answers from "./answers.js"
import * as BusinessRoutes from "./businessRoutes.js"
import type { CounterRegistry } from "./counters.js"
import type { PlatformReject } from "./errors.js"
import { reject, specs } from "./errors.js"
import type { FaultRegistry } from "./faults.js"
import type { Platform } from "./platform.js"
import { answering } from "./platformRoutes.js"
import { pathOf, queryOf } from "./requestTarget.js"

/**
 * The options the business calls read.
 *
 * @internal
 */
export interface GatewaySettings {
  readonly appKeyHeader: string
  readonly businessErrorKeys: Answers.ErrorKeys
}

/**
 * What the gateway needs: the platform (tokens, flow control), the faults, the counters (of the
 * leniency a call relied on), the business routes.
 *
 * @internal
 */
export interface GatewayDeps {
  readonly platform: Platform
  readonly faults: FaultRegistry
  readonly counters: CounterRegistry
  readonly routes: ReadonlyArray<BusinessRoutes.BusinessRoute>
  readonly settings: GatewaySettings
}

// The northbound APIs: the connection manager's (`iocm`) and the device manager's (`iodm`).
const businessPrefixes = ["/iocm/app/", "/iodm/app/"]

const securityPrefix = "/iocm/app/sec/"

/**
 * Whether a request path is a business call, authenticated before it is routed.
 *
 * @internal
 */
export const isBusinessPath = (path: string): boolean =>
  businessPrefixes.some((prefix) => path.startsWith(prefix)) && !path.startsWith(securityPrefix)

/** The scheme and the token of an `Authorization` header; the scheme `Bearer` in any case. */
const bearerOf = (
  authorization: string | undefined
): { readonly scheme: string; readonly token: string } | undefined => {
  const parts = /^(bearer)\s+(\S+)\s*$/i.exec(authorization ?? "")
  return parts === null ? undefined : { scheme: parts[1]!, token: parts[2]! }
}

/**
 * The platform's checks of a business call, in its order: the app key, the token, flow control,
 * then an `appId` query parameter naming another app (403/100217). Answers the app's id.
 */
const authenticate = (
  { counters, platform, settings }: GatewayDeps,
  request: HttpServerRequest.HttpServerRequest,
  query: URLSearchParams
): Effect.Effect<string, PlatformReject> =>
  Effect.gen(function*() {
    const appKey = request.headers[settings.appKeyHeader.toLowerCase()]
    if (appKey === undefined || appKey === "") {
      return yield* reject(specs.missingAppKey)
    }
    const bearer = bearerOf(request.headers["authorization"])
    if (bearer === undefined) {
      return yield* reject(specs.invalidToken)
    }
    if (bearer.scheme !== "Bearer") {
      yield* counters.recordLeniency("bearerCase")
    }
    yield* platform.authorize(appKey, bearer.token)
    const onBehalfOf = query.get("appId")
    if (onBehalfOf !== null && onBehalfOf !== "" && onBehalfOf !== appKey) {
      return yield* reject(specs.appNotAuthorized)
    }
    return appKey
  })

/** A call to no business route: authenticated (and counted) like any other, then 405 or 404, under `other`. */
const unrouted = (
  deps: GatewayDeps,
  request: HttpServerRequest.HttpServerRequest,
  query: URLSearchParams,
  match: Exclude<BusinessRoutes.Match, { readonly _tag: "Found" }>
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  authenticate(deps, request, query).pipe(
    Effect.map(() => match._tag === "MethodNotAllowed" ? Answers.methodNotAllowed(match.allow) : Answers.notFound()),
    Effect.catchTag(
      "PlatformReject",
      (rejection) => Effect.succeed(Answers.rejected("other", rejection, deps.settings.businessErrorKeys))
    )
  )

/**
 * The business calls' handler: authentication, then routing.
 *
 * @internal
 */
export const make = (
  deps: GatewayDeps
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const query = queryOf(request)
    const match = BusinessRoutes.find(deps.routes, request.method, pathOf(request))
    if (match._tag !== "Found") return unrouted(deps, request, query, match)
    const { params, route } = match
    return answering(
      deps.faults,
      route.endpoint,
      deps.settings.businessErrorKeys,
      Effect.flatMap(authenticate(deps, request, query), (appId) => route.handle({ appId, params, query, request }))
    )
  })

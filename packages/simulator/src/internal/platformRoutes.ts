/**
 * The platform's routes: login, refresh and the device query, each behind its injected faults,
 * answering the platform's way (`answers.ts`) whatever happens inside.
 *
 * @internal
 */
import * as Wire from "@iocm/core/Wire"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { Endpoint } from "../Simulator.js"
import * as Answers from "./answers.js"
import * as Body from "./body.js"
import type { PlatformReject } from "./errors.js"
import { reject, specs } from "./errors.js"
import type { FaultRegistry } from "./faults.js"
import type { Platform } from "./platform.js"

/**
 * The options the platform's routes read.
 *
 * @internal
 */
export interface PlatformRouteSettings {
  readonly maxBodySize: number
  readonly appKeyHeader: string
  readonly businessErrorKeys: Answers.ErrorKeys
}

/**
 * What the platform's routes need: the platform's state, the faults to inject, the options.
 *
 * @internal
 */
export interface PlatformRouteDeps {
  readonly platform: Platform
  readonly faults: FaultRegistry
  readonly settings: PlatformRouteSettings
}

type Handler = Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  PlatformReject,
  HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams
>

const loginFields = ["appId", "secret"] as const

// The login's form fields: like a servlet, it reads the first value of each.
const validateLogin = Body.validator(Wire.LoginRequest, loginFields, Wire.maxParameterLength)

const validateRefresh = Body.validator(
  Wire.RefreshRequest,
  ["appId", "secret", "refreshToken"],
  Wire.maxParameterLength
)

const login = ({ platform, settings }: PlatformRouteDeps): Handler =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Body.readText(request, settings.maxBodySize)
    // Like a servlet's form parameters: a body of any other type carries no field, so 102202.
    const form = Body.hasContentType(request, "application/x-www-form-urlencoded") ? text : ""
    const input = yield* validateLogin(Body.formFields(form, loginFields))
    return Answers.tokens(yield* platform.login(input.appId, input.secret))
  })

const refresh = ({ platform, settings }: PlatformRouteDeps): Handler =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Body.readText(request, settings.maxBodySize)
    if (!Body.hasContentType(request, "application/json")) {
      return yield* reject(specs.invalidInput)
    }
    const input = yield* validateRefresh(yield* Body.jsonObject(text))
    return Answers.tokens(yield* platform.refresh(input.appId, input.secret, input.refreshToken))
  })

const intParam = (value: string | ReadonlyArray<string> | undefined, fallback: number): number => {
  const n = Number(typeof value === "string" ? value : fallback)
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback
}

const bearerToken = (authorization: string | undefined): string | undefined =>
  /^bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1]

const devices = ({ platform, settings }: PlatformRouteDeps): Handler =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const appKey = request.headers[settings.appKeyHeader.toLowerCase()]
    if (appKey === undefined || appKey === "") {
      return yield* reject(specs.missingAppKey)
    }
    const accessToken = bearerToken(request.headers["authorization"])
    if (accessToken === undefined) {
      return yield* reject(specs.invalidToken)
    }
    yield* platform.authorize(appKey, accessToken)
    const search = yield* HttpServerRequest.ParsedSearchParams
    return HttpServerResponse.jsonUnsafe({
      totalCount: 0,
      pageNo: intParam(search["pageNo"], 0),
      pageSize: intParam(search["pageSize"], 10),
      devices: []
    })
  })

/**
 * `handler` as `endpoint`'s route: its injected faults first, then the platform's answer, a
 * rejection in the platform's error body (with `keys`), a defect as 500/50252.
 */
const answering = (faults: FaultRegistry, endpoint: Endpoint, keys: Answers.ErrorKeys, handler: Handler) => {
  // Built once per route, not per request.
  const handled = handler.pipe(
    Effect.map((response) => Answers.ok(endpoint, response)),
    Effect.catchTag("PlatformReject", (rejection) => Effect.succeed(Answers.rejected(endpoint, rejection, keys))),
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.as(Effect.logError("simulator defect", Cause.pretty(cause)), Answers.internalError(endpoint))
    )
  )
  return Effect.gen(function*() {
    const decision = yield* faults.decide(endpoint)
    if (!Duration.isZero(decision.latency)) {
      yield* Effect.sleep(decision.latency)
    }
    return decision.action === undefined ? yield* handled : Answers.fault(endpoint, decision.action)
  })
}

/**
 * The method each platform path takes: a request with another gets 405.
 *
 * @internal
 */
export const methods: ReadonlyMap<string, string> = new Map([
  [Wire.loginPath, "POST"],
  [Wire.refreshPath, "POST"],
  [Wire.devicesPath, "GET"]
])

/**
 * The platform's routes, built once.
 *
 * @internal
 */
export const routes = (deps: PlatformRouteDeps): ReadonlyArray<HttpRouter.Route> => [
  HttpRouter.route("POST", Wire.loginPath, answering(deps.faults, "login", "error_code", login(deps))),
  HttpRouter.route("POST", Wire.refreshPath, answering(deps.faults, "refresh", "error_code", refresh(deps))),
  HttpRouter.route(
    "GET",
    Wire.devicesPath,
    answering(deps.faults, "devices", deps.settings.businessErrorKeys, devices(deps))
  )
]

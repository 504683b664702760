/**
 * The platform's security API: login and refresh, each behind its injected faults, answering the
 * platform's way (`answers.ts`) whatever happens inside. `answering` is also how the business
 * APIs (`gateway.ts`) answer.
 *
 * @internal
 */
import * as Wire from "@iocm/core/Wire"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { Endpoint } from "../Simulator.js"
import * as Answers from "./answers.js"
import * as Body from "./body.js"
import type { CounterRegistry } from "./counters.js"
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
}

/**
 * What the platform's routes need: the platform's state, the faults to inject, the counters (of
 * the leniency a login relied on), the options.
 *
 * @internal
 */
export interface PlatformRouteDeps {
  readonly platform: Platform
  readonly faults: FaultRegistry
  readonly counters: CounterRegistry
  readonly settings: PlatformRouteSettings
}

type Handler = Effect.Effect<HttpServerResponse.HttpServerResponse, PlatformReject, HttpServerRequest.HttpServerRequest>

const loginFields = ["appId", "secret"] as const

// The login's form fields: like a servlet, it reads the first value of each.
const validateLogin = Body.validator(Wire.LoginRequest, loginFields, Wire.maxParameterLength)

const validateRefresh = Body.validator(
  Wire.RefreshRequest,
  ["appId", "secret", "refreshToken"],
  Wire.maxParameterLength
)

const login = ({ counters, platform, settings }: PlatformRouteDeps): Handler =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Body.readText(request, settings.maxBodySize)
    // Like a servlet's form parameters: a body of any other type carries no field, so 102202.
    const form = Body.formFields(
      Body.hasContentType(request, "application/x-www-form-urlencoded") ? text : "",
      loginFields
    )
    if (form.ignoredCase) {
      yield* counters.recordLeniency("loginFieldCase")
    }
    const input = yield* validateLogin(form.values)
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

/**
 * `handler` as `endpoint`'s answer: its injected faults first, then the platform's answer, a
 * rejection in the platform's error body (with `keys`), a defect as 500/50252.
 *
 * @internal
 */
export const answering = <R>(
  faults: FaultRegistry,
  endpoint: Endpoint,
  keys: Answers.ErrorKeys,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, PlatformReject, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> => {
  // Built once per call: once per route for the security API.
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
 * The method each security-API path takes: a request with another gets 405.
 *
 * @internal
 */
export const methods: ReadonlyMap<string, string> = new Map([
  [Wire.loginPath, "POST"],
  [Wire.refreshPath, "POST"]
])

/**
 * The security API's routes, built once.
 *
 * @internal
 */
export const routes = (deps: PlatformRouteDeps): ReadonlyArray<HttpRouter.Route> => [
  HttpRouter.route("POST", Wire.loginPath, answering(deps.faults, "login", "error_code", login(deps))),
  HttpRouter.route("POST", Wire.refreshPath, answering(deps.faults, "refresh", "error_code", refresh(deps)))
]

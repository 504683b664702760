/**
 * The simulator's HTTP app: business calls (every `/iocm/app/` or `/iodm/app/` path outside the
 * security API) to the gateway, which authenticates before it routes; the security API and the
 * control API on exact paths; the platform-style answers for unknown routes and defects around
 * them; and one middleware that counts and logs every request.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as FindMyWay from "effect/http/FindMyWay"
import * as HttpRouter from "effect/http/HttpRouter"
import type * as HttpServerError from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Answers from "./answers.js"
import type * as AppStore from "./appStore.js"
import * as BusinessRoutes from "./businessRoutes.js"
import * as ControlRoutes from "./controlRoutes.js"
import type { CounterRegistry } from "./counters.js"
import type { FaultRegistry } from "./faults.js"
import * as Gateway from "./gateway.js"
import type { Platform } from "./platform.js"
import * as PlatformRoutes from "./platformRoutes.js"
import { pathOf } from "./requestTarget.js"

/**
 * The options the HTTP app reads.
 *
 * @internal
 */
export interface RouterSettings extends PlatformRoutes.PlatformRouteSettings, Gateway.GatewaySettings {
  readonly delivery: AppStore.Delivery
  readonly controlApi: boolean
  readonly logRequests: boolean
}

/**
 * What the HTTP app is built from.
 *
 * @internal
 */
export interface RouterDeps {
  readonly platform: Platform
  readonly store: AppStore.Store
  readonly faults: FaultRegistry
  readonly counters: CounterRegistry
  readonly control: ControlRoutes.Control
  readonly settings: RouterSettings
}

/**
 * The HTTP app, as the server runs it for each request.
 *
 * @internal
 */
export type App = Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  HttpServerError.HttpServerError,
  HttpServerRequest.HttpServerRequest | Scope.Scope
>

// The platform's paths are exact: a client that got the case or a slash wrong must find out
// here, not in production.
const routerConfig: Partial<FindMyWay.RouterConfig> = {
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false
}

/** 405 on a security-API path with another method, 404 anywhere else. */
const unknownRoute = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const allow = PlatformRoutes.methods.get(pathOf(request))
  return allow === undefined ? Answers.notFound() : Answers.methodNotAllowed(allow)
})

/**
 * Unknown routes (the router finds no match for the method and path) get the platform-style
 * 404/405; a defect anywhere gets a 500 with the platform's body, never an empty one.
 */
const withFallbacks = (app: App): App =>
  app.pipe(
    Effect.catchReason("HttpServerError", "RouteNotFound", () => unknownRoute),
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.as(Effect.logError("simulator defect", Cause.pretty(cause)), Answers.internalError("other"))
    )
  )

/**
 * The one middleware that counts every answer (`Answers.countedAs`), logs it when asked to, and
 * destroys the connection of a `reset` fault. A request interrupted before its answer (the client
 * went away) is neither counted nor logged.
 */
const countedAndLogged = (counters: CounterRegistry, logRequests: boolean) => (app: App): App =>
  Effect.gen(function*() {
    const start = logRequests ? yield* Clock.currentTimeMillis : 0
    const response = yield* app
    const { endpoint, outcome, resetConnection } = Answers.countedAs(response)
    yield* counters.record(endpoint, outcome)
    if (!logRequests && !resetConnection) return response
    const request = yield* HttpServerRequest.HttpServerRequest
    if (logRequests) {
      const elapsed = (yield* Clock.currentTimeMillis) - start
      const status = resetConnection ? "---" : String(response.status)
      // Method, path, status and outcome only: never headers, bodies or query strings.
      yield* Effect.logInfo(`${request.method} ${pathOf(request)} ${status} ${outcome} ${elapsed}ms`)
    }
    if (resetConnection) {
      NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
    }
    return response
  })

const routes = ({ control, counters, faults, platform, settings }: RouterDeps) => {
  const platformRoutes = HttpRouter.addAll(PlatformRoutes.routes({ platform, faults, counters, settings }))
  return settings.controlApi
    ? Layer.merge(
      platformRoutes,
      HttpRouter.addAll(ControlRoutes.routes(control, settings.maxBodySize), { prefix: ControlRoutes.controlPrefix })
    )
    : platformRoutes
}

/** The gateway of the business calls, over the business routes built once. */
const gateway = ({ counters, faults, platform, settings, store }: RouterDeps) =>
  Gateway.make({
    platform,
    faults,
    counters,
    routes: BusinessRoutes.routes({ store, maxBodySize: settings.maxBodySize, delivery: settings.delivery }),
    settings
  })

/**
 * Builds the HTTP app once, in the given scope. It fails only when interrupted.
 *
 * @internal
 */
export const make = (deps: RouterDeps): Effect.Effect<App, never, Scope.Scope> =>
  HttpRouter.toHttpEffect(routes(deps)).pipe(
    Effect.map((routed) => {
      const business = gateway(deps)
      const app: App = Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request) => Gateway.isBusinessPath(pathOf(request)) ? business : routed
      )
      return countedAndLogged(deps.counters, deps.settings.logRequests)(withFallbacks(app))
    }),
    Effect.provideService(HttpRouter.RouterConfig, routerConfig)
  )

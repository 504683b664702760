/**
 * The control API under `/_simulator`, for tests and operators: counters, faults, apps and
 * tokens, seeded devices, the commands and subscriptions apps made. Plain JSON, counted under
 * `other`, and it never reveals a token or a secret.
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
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Counters, Faults, Simulator } from "../Simulator.js"
import * as Answers from "./answers.js"
import * as Body from "./body.js"
import { parse as parseDuration } from "./duration.js"
import { isEndpoint } from "./endpoints.js"
import type { PlatformReject } from "./errors.js"
import { reject, specs } from "./errors.js"
import { maxLatency } from "./faults.js"

/**
 * What the control API acts on: the service's own operations.
 *
 * @internal
 */
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
  | "seedDevice"
  | "commands"
  | "subscriptions"
>

/**
 * Where the control API is mounted.
 *
 * @internal
 */
export const controlPrefix = "/_simulator"

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

const OptionalParameter = Schema.optional(Parameter)

const DeviceSeedJson = Schema.Struct({
  appId: OptionalParameter,
  deviceId: OptionalParameter,
  nodeId: Parameter,
  gatewayId: OptionalParameter,
  nodeType: Schema.optional(Schema.Literals(["ENDPOINT", "GATEWAY", "UNKNOWN"])),
  name: OptionalParameter,
  manufacturerId: OptionalParameter,
  manufacturerName: OptionalParameter,
  deviceType: OptionalParameter,
  model: OptionalParameter,
  protocolType: OptionalParameter,
  status: Schema.optional(Schema.Literals(["ONLINE", "OFFLINE", "INBOX", "ABNORMAL"])),
  services: Schema.optional(Schema.Array(Schema.Struct({
    serviceId: Parameter,
    serviceType: OptionalParameter,
    data: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
  })))
})

/** A seeded device: no unknown key (a misspelt one would be silently ignored). */
const decodeDeviceSeed = Schema.decodeUnknownExit(DeviceSeedJson, { onExcessProperty: "error" })

const noContent = () => HttpServerResponse.empty({ status: 204 })

/** `handler` as a control route: its answer, or its rejection in the platform's error body. */
const answering = <R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, PlatformReject, R>) =>
  handler.pipe(
    Effect.map(Answers.control),
    Effect.catchTag("PlatformReject", (rejection) => Effect.succeed(Answers.rejected("other", rejection)))
  )

const jsonBody = (maxBodySize: number) =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request) => Effect.flatMap(Body.readText(request, maxBodySize), Body.jsonObject)
  )

/** The counters as the control API shows them: the token sets' times, never their tokens. */
const countersJson = (counters: Counters) => ({
  requests: counters.requests,
  logins: counters.logins,
  refreshes: counters.refreshes,
  businessCalls: counters.businessCalls,
  leniency: counters.leniency,
  tokens: Object.fromEntries(
    Object.entries(counters.tokens).map(([appId, t]) => [appId, {
      issuedAt: t.issuedAt,
      accessTokenExpiresAt: t.accessTokenExpiresAt,
      refreshTokenExpiresAt: t.refreshTokenExpiresAt,
      accessTokenValid: t.accessTokenValid
    }])
  )
})

/** A latency given as milliseconds or a duration text, at most `maxLatency`. */
const latencyOf = (input: number | string | undefined): Effect.Effect<Duration.Duration | undefined, PlatformReject> =>
  Effect.gen(function*() {
    if (input === undefined) return undefined
    const latency = typeof input === "number"
      ? Duration.millis(input)
      : yield* Option.match(parseDuration(input), {
        onNone: () => Effect.fail(reject(specs.invalidInput)),
        onSome: Effect.succeed
      })
    if (Duration.isGreaterThan(latency, maxLatency)) {
      return yield* reject({
        ...specs.invalidInput,
        description: `Latency must be at most ${Duration.format(maxLatency)}.`
      })
    }
    return latency
  })

const setFaults = (control: Control, maxBodySize: number) =>
  Effect.gen(function*() {
    const endpoint = (yield* HttpRouter.params)["endpoint"] ?? ""
    if (endpoint !== "all" && !isEndpoint(endpoint)) {
      return yield* reject({ ...specs.notFound, description: "Unknown endpoint." })
    }
    const json = yield* jsonBody(maxBodySize)
    const input = yield* decodeFaults(json).pipe(Effect.mapError(() => reject(specs.invalidInput)))
    const faults: Faults = { ...input, latency: yield* latencyOf(input.latency) }
    yield* control.setFaults(endpoint, faults)
    return noContent()
  })

const registerApp = (control: Control, maxBodySize: number) =>
  Effect.gen(function*() {
    const json = yield* jsonBody(maxBodySize)
    const app = yield* decodeApp(json).pipe(Effect.mapError(() => reject(specs.invalidInput)))
    yield* control.registerApp(app)
    return noContent()
  })

const appAction = (action: (appId: string) => Effect.Effect<void, Cause.NoSuchElementError>) =>
  Effect.gen(function*() {
    const appId = (yield* HttpRouter.params)["appId"] ?? ""
    yield* action(appId).pipe(Effect.mapError(() => reject({ ...specs.notFound, description: `No app ${appId}.` })))
    return noContent()
  })

const seedDevice = (control: Control, maxBodySize: number) =>
  Effect.gen(function*() {
    const json = yield* jsonBody(maxBodySize)
    const seed = yield* decodeDeviceSeed(json).pipe(Effect.mapError(() => reject(specs.invalidInput)))
    const deviceId = yield* control.seedDevice(seed).pipe(
      Effect.mapError((error) =>
        Cause.isNoSuchElementError(error)
          ? reject({ ...specs.notFound, description: `No app ${seed.appId}.` })
          : reject({ ...specs.invalidInput, description: error.message })
      )
    )
    return HttpServerResponse.jsonUnsafe({ deviceId }, { status: 201 })
  })

/** The `appId` query parameter, when there is exactly one. */
const appIdParam = Effect.map(HttpServerRequest.ParsedSearchParams, (params) => {
  const appId = params["appId"]
  return typeof appId === "string" && appId !== "" ? appId : undefined
})

const revokeApp = (control: Control) =>
  Effect.gen(function*() {
    const appId = (yield* HttpRouter.params)["appId"] ?? ""
    yield* control.revokeTokens(appId)
    return noContent()
  })

/** What `read` gives for the app of the `appId` parameter (every app without it), as `{ [name]: [...] }`. */
const listing = <A, E>(name: string, read: (appId: string | undefined) => Effect.Effect<ReadonlyArray<A>, E>) =>
  appIdParam.pipe(
    Effect.flatMap(read),
    Effect.map((items) => HttpServerResponse.jsonUnsafe({ [name]: items }))
  )

/**
 * The control API's routes, relative to `controlPrefix`, built once.
 *
 * @internal
 */
export const routes = (control: Control, maxBodySize: number): ReadonlyArray<HttpRouter.Route> => [
  HttpRouter.route(
    "GET",
    "/counters",
    answering(Effect.map(control.counters, (counters) => HttpServerResponse.jsonUnsafe(countersJson(counters))))
  ),
  HttpRouter.route("POST", "/counters/reset", answering(Effect.map(control.resetCounters, noContent))),
  HttpRouter.route("PUT", "/faults/:endpoint", answering(setFaults(control, maxBodySize))),
  HttpRouter.route("DELETE", "/faults", answering(Effect.map(control.clearFaults, noContent))),
  HttpRouter.route("POST", "/apps", answering(registerApp(control, maxBodySize))),
  HttpRouter.route("POST", "/apps/:appId/freeze", answering(appAction(control.freezeApp))),
  HttpRouter.route("POST", "/apps/:appId/unfreeze", answering(appAction(control.unfreezeApp))),
  HttpRouter.route("POST", "/apps/:appId/revoke", answering(revokeApp(control))),
  HttpRouter.route("POST", "/revoke", answering(Effect.map(control.revokeTokens(), noContent))),
  HttpRouter.route("POST", "/devices", answering(seedDevice(control, maxBodySize))),
  HttpRouter.route("GET", "/commands", answering(listing("commands", control.commands))),
  HttpRouter.route("GET", "/subscriptions", answering(listing("subscriptions", control.subscriptions)))
]

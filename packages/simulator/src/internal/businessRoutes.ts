/**
 * The business APIs an NA calls most, on the apps' data (`appStore.ts`): the device query in its
 * three versions, one device, its deletion, device registration, device commands and
 * subscriptions. Each route is a method, an exact path pattern and a handler of an authenticated
 * call; `find` picks the route of a request. Authentication, flow control and faults come before,
 * in `gateway.ts`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Crypto from "node:crypto"
import * as AppStore from "./appStore.js"
import * as Input from "./businessInput.js"
import * as Views from "./businessViews.js"
import type { BusinessEndpoint } from "./endpoints.js"
import type { PlatformReject } from "./errors.js"
import { randomToken } from "./platform.js"
import { fromResult } from "./transition.js"

/**
 * An authenticated business call: the app it is made for, the path's parameters, the query.
 *
 * @internal
 */
export interface BusinessCall {
  readonly appId: string
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly request: HttpServerRequest.HttpServerRequest
}

type Handler = (call: BusinessCall) => Effect.Effect<HttpServerResponse.HttpServerResponse, PlatformReject>

/**
 * One business route: its method, the segments of its exact path (`:name` ones are parameters),
 * the endpoint it belongs to and its handler.
 *
 * @internal
 */
export interface BusinessRoute {
  readonly method: "GET" | "POST" | "DELETE"
  readonly segments: ReadonlyArray<string>
  readonly endpoint: BusinessEndpoint
  readonly handle: Handler
}

/**
 * What the business routes work on.
 *
 * @internal
 */
export interface BusinessDeps {
  readonly store: AppStore.Store
  readonly maxBodySize: number
  readonly delivery: AppStore.Delivery
}

/** The `pageSize` of a device or subscription query that gives none. */
const defaultPageSize = 10

/** A `deviceCredentials` registration that gives no `timeout` keeps its verification code this long, seconds. */
const defaultRegistrationTimeout = 180

/** A command that gives no `expireTime` is kept this long, seconds (48 hours). */
const defaultExpireTime = 172_800

const defaultMaxRetransmit = 3

const newId = Effect.sync(() => Crypto.randomUUID())

const newToken = Effect.sync(randomToken)

const noContent = () => HttpServerResponse.empty({ status: 204 })

const created = (body: unknown) => HttpServerResponse.jsonUnsafe(body, { status: 201 })

const paramOf = (call: BusinessCall, name: string): string => call.params[name] ?? ""

const queryDevices = ({ store }: BusinessDeps): Handler => (call) =>
  Effect.gen(function*() {
    const page = yield* Input.page(call.query, defaultPageSize)
    const filter = Input.deviceFilter(call.query)
    const devices = yield* store.read((state) => AppStore.matchingDevices(state, call.appId, filter))
    return HttpServerResponse.jsonUnsafe(Views.devicePage(devices, page))
  })

const getDevice = ({ store }: BusinessDeps): Handler => (call) =>
  store.read((state) => AppStore.findDevice(state, call.appId, paramOf(call, "deviceId"))).pipe(
    Effect.flatMap(fromResult),
    Effect.map((device) => HttpServerResponse.jsonUnsafe(Views.device(device)))
  )

const deleteDevice = ({ store }: BusinessDeps): Handler => (call) =>
  Effect.as(store.modify((state) => AppStore.removeDevice(state, call.appId, paramOf(call, "deviceId"))), noContent())

const registerDevice = ({ maxBodySize, store }: BusinessDeps): Handler => (call) =>
  Effect.gen(function*() {
    const input = yield* Effect.flatMap(Input.jsonBody(call.request, maxBodySize), Input.registration)
    const deviceId = yield* newId
    const psk = input.psk ?? (yield* newToken)
    const info = input.deviceInfo ?? {}
    yield* store.modify((state, now) =>
      AppStore.addDevice(
        state,
        call.appId,
        AppStore.newDevice({
          deviceId,
          nodeId: input.nodeId,
          // Registered, not yet activated by the device.
          status: "OFFLINE",
          name: info.name ?? undefined,
          manufacturerId: info.manufacturerId ?? undefined,
          manufacturerName: info.manufacturerName ?? undefined,
          deviceType: info.deviceType ?? undefined,
          model: info.model ?? undefined,
          protocolType: info.protocolType ?? undefined
        }, now)
      )
    )
    return HttpServerResponse.jsonUnsafe({
      deviceId,
      verifyCode: input.verifyCode ?? input.nodeId,
      timeout: input.timeout ?? defaultRegistrationTimeout,
      psk
    })
  })

const sendCommand = ({ delivery, maxBodySize, store }: BusinessDeps): Handler => (call) =>
  Effect.gen(function*() {
    const input = yield* Effect.flatMap(Input.jsonBody(call.request, maxBodySize), Input.command)
    yield* Input.ownApp(call.appId, input.appId)
    const commandId = yield* newToken
    const command = yield* store.modify((state, now) =>
      AppStore.addCommand(state, call.appId, {
        commandId,
        appId: call.appId,
        deviceId: input.deviceId,
        command: {
          serviceId: input.command.serviceId,
          method: input.command.method,
          paras: input.command.paras ?? undefined
        },
        callbackUrl: input.callbackUrl ?? undefined,
        expireTime: input.expireTime ?? defaultExpireTime,
        maxRetransmit: input.maxRetransmit ?? defaultMaxRetransmit,
        createdAt: now
      })
    )
    return created(Views.command(command, AppStore.commandProgress(command, command.createdAt, delivery)))
  })

const queryCommands = ({ delivery, store }: BusinessDeps): Handler => (call) =>
  Effect.gen(function*() {
    const page = yield* Input.page(call.query, Input.maxPageSize)
    const filter = yield* Input.commandFilter(call.query)
    const body = yield* store.read((state, now) =>
      Views.commandPage(
        AppStore.matchingCommands(state, call.appId, filter),
        page,
        (command) => AppStore.commandProgress(command, now, delivery)
      )
    )
    return HttpServerResponse.jsonUnsafe(body)
  })

const subscribe = ({ maxBodySize, store }: BusinessDeps): Handler => (call) =>
  Effect.gen(function*() {
    const input = yield* Effect.flatMap(Input.jsonBody(call.request, maxBodySize), Input.subscription)
    yield* Input.ownApp(call.appId, input.appId)
    const ownerFlag = yield* Input.ownerFlag(input.ownerFlag, call.query)
    const subscriptionId = yield* newId
    const subscription = yield* store.modify((state) =>
      AppStore.addSubscription(state, call.appId, {
        subscriptionId,
        appId: call.appId,
        notifyType: input.notifyType,
        callbackUrl: input.callbackUrl,
        ownerFlag
      })
    )
    return created(Views.subscription(subscription))
  })

const querySubscriptions = ({ store }: BusinessDeps): Handler => (call) =>
  Effect.gen(function*() {
    const page = yield* Input.page(call.query, defaultPageSize)
    const filter = yield* Input.subscriptionFilter(call.query)
    const subscriptions = yield* store.read((state) => AppStore.matchingSubscriptions(state, call.appId, filter))
    return HttpServerResponse.jsonUnsafe(Views.subscriptionPage(subscriptions, page))
  })

const getSubscription = ({ store }: BusinessDeps): Handler => (call) =>
  store.read((state) => AppStore.findSubscription(state, call.appId, paramOf(call, "subscriptionId"))).pipe(
    Effect.flatMap(fromResult),
    Effect.map((subscription) => HttpServerResponse.jsonUnsafe(Views.subscription(subscription)))
  )

const unsubscribe = ({ store }: BusinessDeps): Handler => (call) =>
  Effect.as(
    store.modify((state) => AppStore.removeSubscription(state, call.appId, paramOf(call, "subscriptionId"))),
    noContent()
  )

const unsubscribeMatching = ({ store }: BusinessDeps): Handler => (call) =>
  Effect.flatMap(
    Input.subscriptionFilter(call.query),
    (filter) => Effect.as(store.modify((state) => AppStore.removeSubscriptions(state, call.appId, filter)), noContent())
  )

const route = (
  method: BusinessRoute["method"],
  path: string,
  endpoint: BusinessEndpoint,
  handle: Handler
): BusinessRoute => ({ method, segments: path.split("/"), endpoint, handle })

/** The versions of the device-management API whose `devices` resources are served, alike. */
const deviceApiVersions = ["v1.1.0", "v1.3.0", "v1.4.0"] as const

const subscriptionsPath = "/iocm/app/sub/v1.2.0/subscriptions"

/**
 * The business routes, built once.
 *
 * @internal
 */
export const routes = (deps: BusinessDeps): ReadonlyArray<BusinessRoute> => [
  ...deviceApiVersions.flatMap((version) => [
    route("GET", `/iocm/app/dm/${version}/devices`, "devices", queryDevices(deps)),
    route("GET", `/iocm/app/dm/${version}/devices/:deviceId`, "devices", getDevice(deps)),
    route("DELETE", `/iocm/app/dm/${version}/devices/:deviceId`, "devices", deleteDevice(deps))
  ]),
  route("POST", "/iocm/app/reg/v1.1.0/deviceCredentials", "registration", registerDevice(deps)),
  route("POST", "/iocm/app/cmd/v1.4.0/deviceCommands", "commands", sendCommand(deps)),
  route("GET", "/iocm/app/cmd/v1.4.0/deviceCommands", "commands", queryCommands(deps)),
  route("POST", subscriptionsPath, "subscriptions", subscribe(deps)),
  route("GET", subscriptionsPath, "subscriptions", querySubscriptions(deps)),
  route("DELETE", subscriptionsPath, "subscriptions", unsubscribeMatching(deps)),
  route("GET", `${subscriptionsPath}/:subscriptionId`, "subscriptions", getSubscription(deps)),
  route("DELETE", `${subscriptionsPath}/:subscriptionId`, "subscriptions", unsubscribe(deps))
]

/**
 * The route of a request: found (with the path's parameters), a known path with another method,
 * or nothing.
 *
 * @internal
 */
export type Match =
  | { readonly _tag: "Found"; readonly route: BusinessRoute; readonly params: Readonly<Record<string, string>> }
  | { readonly _tag: "MethodNotAllowed"; readonly allow: string }
  | { readonly _tag: "NotFound" }

const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** The parameters of `segments` on `pattern`, or `undefined` when they do not match (exactly). */
const paramsOn = (
  pattern: ReadonlyArray<string>,
  segments: ReadonlyArray<string>
): Record<string, string> | undefined => {
  if (pattern.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!
    const actual = segments[i]!
    if (expected.startsWith(":")) {
      const value = decodeSegment(actual)
      if (value === undefined || value === "") return undefined
      params[expected.slice(1)] = value
    } else if (expected !== actual) {
      return undefined
    }
  }
  return params
}

/**
 * The route of `method` and `path` (no query) among `routes`; `HEAD` takes the `GET` route.
 *
 * @internal
 */
export const find = (routes: ReadonlyArray<BusinessRoute>, method: string, path: string): Match => {
  const segments = path.split("/")
  const wanted = method === "HEAD" ? "GET" : method
  const allowed: Array<string> = []
  for (const candidate of routes) {
    const params = paramsOn(candidate.segments, segments)
    if (params === undefined) continue
    if (candidate.method === wanted) return { _tag: "Found", route: candidate, params }
    allowed.push(candidate.method)
  }
  return allowed.length === 0 ? { _tag: "NotFound" } : { _tag: "MethodNotAllowed", allow: allowed.join(", ") }
}

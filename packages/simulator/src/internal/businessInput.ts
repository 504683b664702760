/**
 * What the business APIs read from a request, checked the platform's way: JSON bodies and query
 * parameters decoded with schemas, anything malformed, missing or out of range answered 400/100022
 * (an illegal subscription callback URL 400/100222). Like the platform's JSON binding, an optional
 * field may be `null`, an integer may come as a string of digits, and unknown fields are ignored.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as Schema from "effect/Schema"
import type * as AppStore from "./appStore.js"
import * as Body from "./body.js"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { reject, specs } from "./errors.js"
import { parseWireTime } from "./wireTime.js"

/** A non-empty string of at most `max` characters. */
const Text = (max: number) => Schema.String.pipe(Schema.check(Schema.isNonEmpty(), Schema.isMaxLength(max)))

/** An optional field that may also be sent as `null`. */
const nullable = <S extends Schema.Top>(schema: S) => Schema.optional(Schema.NullOr(schema))

/** A whole number between `minimum` and `maximum`, as a JSON number or a string of digits. */
const WireInt = (minimum: number, maximum: number) =>
  Schema.Union([
    Schema.Number,
    Schema.String.pipe(Schema.check(Schema.isPattern(/^\d{1,10}$/)), Schema.decodeTo(Schema.NumberFromString))
  ]).pipe(Schema.check(Schema.isInt(), Schema.isBetween({ minimum, maximum })))

const maxInt = 2_147_483_647

/**
 * The notification types a subscription may name (`sub/v1.2.0/subscriptions`).
 *
 * @internal
 */
export const notifyTypes = [
  "bindDevice",
  "deviceAdded",
  "deviceInfoChanged",
  "deviceDataChanged",
  "deviceDatasChanged",
  "deviceDeleted",
  "messageConfirm",
  "commandRsp",
  "deviceEvent",
  "serviceInfoChanged",
  "ruleEvent",
  "deviceModelAdded",
  "deviceModelDeleted",
  "deviceDesiredPropertiesModifyStatusChanged",
  "swUpgradeStateChangeNotify",
  "swUpgradeResultNotify",
  "fwUpgradeStateChangeNotify",
  "fwUpgradeResultNotify"
] as const

const NotifyType = Schema.Literals(notifyTypes)

const Registration = Schema.Struct({
  nodeId: Text(256),
  verifyCode: nullable(Text(256)),
  timeout: nullable(WireInt(0, maxInt)),
  psk: nullable(Schema.String.pipe(Schema.check(Schema.isPattern(/^[0-9A-Fa-f]{8,32}$/)))),
  deviceInfo: nullable(Schema.Struct({
    name: nullable(Text(256)),
    manufacturerId: nullable(Text(256)),
    manufacturerName: nullable(Text(256)),
    deviceType: nullable(Text(256)),
    model: nullable(Text(256)),
    protocolType: nullable(Text(256))
  }))
})

/**
 * A registration request (`POST reg/v1.1.0/deviceCredentials`).
 *
 * @internal
 */
export type Registration = typeof Registration.Type

const CommandRequest = Schema.Struct({
  deviceId: Text(64),
  command: Schema.Struct({
    serviceId: Text(64),
    method: Text(128),
    paras: nullable(Schema.Record(Schema.String, Schema.Unknown))
  }),
  callbackUrl: nullable(Text(1024)),
  expireTime: nullable(WireInt(0, maxInt)),
  maxRetransmit: nullable(WireInt(0, 3)),
  appId: nullable(Text(256))
})

/**
 * A command request (`POST cmd/v1.4.0/deviceCommands`).
 *
 * @internal
 */
export type CommandRequest = typeof CommandRequest.Type

const OwnerFlag = Schema.Union([Schema.Boolean, Schema.Literals(["true", "false"])])

const SubscriptionRequest = Schema.Struct({
  notifyType: NotifyType,
  callbackUrl: Text(1024),
  appId: nullable(Text(256)),
  ownerFlag: nullable(OwnerFlag)
})

/**
 * A subscription request (`POST sub/v1.2.0/subscriptions`).
 *
 * @internal
 */
export type SubscriptionRequest = typeof SubscriptionRequest.Type

/** A decoder built once, whose every failure is 100022. */
const decoder = <A, I>(schema: Schema.Codec<A, I>) => {
  const decode = Schema.decodeUnknownExit(schema)
  return (json: unknown): Effect.Effect<A, PlatformReject> =>
    Effect.mapError(decode(json), () => reject(specs.badRequest))
}

/**
 * Whether a callback URL is one the platform could call: an absolute `http` or `https` URL.
 *
 * @internal
 */
export const isCallbackUrl = (text: string): boolean => /^https?:\/\//i.test(text) && URL.canParse(text)

const checked = <A>(valid: boolean, value: A, spec: ErrorSpec): Effect.Effect<A, PlatformReject> =>
  valid ? Effect.succeed(value) : Effect.fail(reject(spec))

/**
 * The request's JSON object body, whatever its `Content-Type`: an empty body is `{}`, one that is
 * not a JSON object 100022, one too large 413.
 *
 * @internal
 */
export const jsonBody = (
  request: HttpServerRequest.HttpServerRequest,
  maxBodySize: number
): Effect.Effect<Record<string, unknown>, PlatformReject> =>
  Effect.flatMap(Body.readText(request, maxBodySize), (text) => Body.jsonObject(text, specs.badRequest))

/**
 * Decodes a registration request.
 *
 * @internal
 */
export const registration: (json: unknown) => Effect.Effect<Registration, PlatformReject> = decoder(Registration)

const decodeCommand = decoder(CommandRequest)

/**
 * Decodes a command request; its callback URL, when given, must be an http(s) URL.
 *
 * @internal
 */
export const command = (json: unknown): Effect.Effect<CommandRequest, PlatformReject> =>
  Effect.flatMap(decodeCommand(json), (input) =>
    checked(
      input.callbackUrl === undefined || input.callbackUrl === null || isCallbackUrl(input.callbackUrl),
      input,
      specs.badRequest
    ))

const decodeSubscription = decoder(SubscriptionRequest)

/**
 * Decodes a subscription request; an illegal callback URL is 100222.
 *
 * @internal
 */
export const subscription = (json: unknown): Effect.Effect<SubscriptionRequest, PlatformReject> =>
  Effect.flatMap(
    decodeSubscription(json),
    (input) => checked(isCallbackUrl(input.callbackUrl), input, specs.illegalCallbackUrl)
  )

/**
 * Whether a call made for `appId` (a body's optional `appId`) is the caller's own: acting for
 * another app takes an authorization the simulator never grants (403/100217).
 *
 * @internal
 */
export const ownApp = (caller: string, appId: string | null | undefined): Effect.Effect<void, PlatformReject> =>
  checked(appId === undefined || appId === null || appId === caller, undefined, specs.appNotAuthorized)

const isOwnerFlag = Schema.is(OwnerFlag)

/**
 * A subscription's `ownerFlag`, from its body or else its query (`?ownerFlag=true`, as SDKs send
 * it): `true` or `false`, or the strings; anything else is 100022.
 *
 * @internal
 */
export const ownerFlag = (
  body: boolean | "true" | "false" | null | undefined,
  query: URLSearchParams
): Effect.Effect<boolean | undefined, PlatformReject> => {
  const flag = body ?? param(query, "ownerFlag")
  if (flag === undefined) return Effect.succeed(undefined)
  return checked(isOwnerFlag(flag), flag === true || flag === "true", specs.badRequest)
}

/**
 * A query parameter's first value; an empty one counts as absent.
 *
 * @internal
 */
export const param = (query: URLSearchParams, name: string): string | undefined => {
  const value = query.get(name)
  return value === null || value === "" ? undefined : value
}

const integerParam = (
  query: URLSearchParams,
  name: string,
  range: { readonly minimum: number; readonly maximum: number; readonly fallback: number }
): Effect.Effect<number, PlatformReject> => {
  const text = param(query, name)
  if (text === undefined) return Effect.succeed(range.fallback)
  const n = Number(text)
  return checked(/^\d{1,10}$/.test(text) && n >= range.minimum && n <= range.maximum, n, specs.badRequest)
}

/**
 * Largest `pageSize` a query accepts.
 *
 * @internal
 */
export const maxPageSize = 1000

/**
 * The page a query asks for: `pageNo` from 0 (default 0), `pageSize` from 1 to `maxPageSize`.
 *
 * @internal
 */
export const page = (query: URLSearchParams, defaultPageSize: number): Effect.Effect<AppStore.Page, PlatformReject> =>
  Effect.all({
    pageNo: integerParam(query, "pageNo", { minimum: 0, maximum: maxInt, fallback: 0 }),
    pageSize: integerParam(query, "pageSize", { minimum: 1, maximum: maxPageSize, fallback: defaultPageSize })
  })

const timeParam = (query: URLSearchParams, name: string): Effect.Effect<number | undefined, PlatformReject> => {
  const text = param(query, name)
  if (text === undefined) return Effect.succeed(undefined)
  const time = parseWireTime(text)
  return checked(time !== undefined, time, specs.badRequest)
}

/**
 * The device query's filters.
 *
 * @internal
 */
export const deviceFilter = (query: URLSearchParams): AppStore.DeviceFilter => ({
  gatewayId: param(query, "gatewayId"),
  nodeType: param(query, "nodeType"),
  deviceType: param(query, "deviceType"),
  status: param(query, "status")
})

/**
 * The command query's filters: `deviceId`, `startTime` and `endTime` (creation times).
 *
 * @internal
 */
export const commandFilter = (query: URLSearchParams): Effect.Effect<AppStore.CommandFilter, PlatformReject> =>
  Effect.all({
    deviceId: Effect.succeed(param(query, "deviceId")),
    createdFrom: timeParam(query, "startTime"),
    createdTo: timeParam(query, "endTime")
  })

const isNotifyType = Schema.is(NotifyType)

/**
 * The subscription query's (and batch deletion's) filters; a `notifyType` must be a known one.
 *
 * @internal
 */
export const subscriptionFilter = (
  query: URLSearchParams
): Effect.Effect<AppStore.SubscriptionFilter, PlatformReject> => {
  const notifyType = param(query, "notifyType")
  return checked(notifyType === undefined || isNotifyType(notifyType), {
    notifyType,
    callbackUrl: param(query, "callbackUrl")
  }, specs.badRequest)
}

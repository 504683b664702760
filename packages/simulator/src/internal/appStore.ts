/**
 * The business data of each app, as pure transitions: the devices it registered (or a test
 * seeded), the commands it sent them, its subscriptions. Apps never see each other's data. A
 * command's status is never stored: `commandProgress` reads it from the command and the time.
 * `make` holds the state in a `Ref`.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import type {
  CommandSnapshot,
  CommandStatus,
  DeviceSeed,
  DeviceService,
  DeviceStatus,
  NodeType,
  SubscriptionSnapshot
} from "../Simulator.js"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { specs } from "./errors.js"
import * as Transitions from "./transition.js"

/**
 * A device's `deviceInfo`, as far as the simulator keeps it.
 *
 * @internal
 */
export interface DeviceInfo {
  readonly nodeId: string
  readonly name: string | undefined
  readonly manufacturerId: string | undefined
  readonly manufacturerName: string | undefined
  readonly deviceType: string | undefined
  readonly model: string | undefined
  readonly protocolType: string | undefined
  readonly status: DeviceStatus
}

/**
 * A device of one app.
 *
 * @internal
 */
export interface Device {
  readonly deviceId: string
  readonly gatewayId: string
  readonly nodeType: NodeType
  /** Epoch ms. */
  readonly createdAt: number
  readonly info: DeviceInfo
  readonly services: ReadonlyArray<DeviceService>
}

/**
 * A command as it was sent; where it stands is `commandProgress`.
 *
 * @internal
 */
export type Command = Omit<CommandSnapshot, "status" | "sentAt" | "deliveredAt">

/**
 * A subscription of one app.
 *
 * @internal
 */
export type Subscription = SubscriptionSnapshot

/**
 * One app's data, each list oldest first.
 *
 * @internal
 */
export interface AppData {
  readonly devices: ReadonlyArray<Device>
  readonly commands: ReadonlyArray<Command>
  readonly subscriptions: ReadonlyArray<Subscription>
}

/**
 * Every app's data, by appId.
 *
 * @internal
 */
export type State = ReadonlyMap<string, AppData>

type Transition<A> = Transitions.Transition<State, A>

/** @internal */
export const initialState: State = new Map()

const noData: AppData = { devices: [], commands: [], subscriptions: [] }

const dataOf = (state: State, appId: string): AppData => state.get(appId) ?? noData

const withData = (state: State, appId: string, data: AppData): State => new Map(state).set(appId, data)

/**
 * What a new device is made of; unset fields take the platform's defaults.
 *
 * @internal
 */
export interface NewDevice extends Omit<DeviceSeed, "appId" | "deviceId" | "status"> {
  readonly deviceId: string
  readonly status: DeviceStatus
}

/**
 * A device created at `now`: directly connected (its own gateway) and an `ENDPOINT` unless told
 * otherwise.
 *
 * @internal
 */
export const newDevice = (input: NewDevice, now: number): Device => ({
  deviceId: input.deviceId,
  gatewayId: input.gatewayId ?? input.deviceId,
  nodeType: input.nodeType ?? "ENDPOINT",
  createdAt: now,
  info: {
    nodeId: input.nodeId,
    name: input.name,
    manufacturerId: input.manufacturerId,
    manufacturerName: input.manufacturerName,
    deviceType: input.deviceType,
    model: input.model,
    protocolType: input.protocolType,
    status: input.status
  },
  services: input.services ?? []
})

/**
 * Adds a device to an app, unless the app already has its `deviceId` or `nodeId` (100416).
 *
 * @internal
 */
export const addDevice = (state: State, appId: string, device: Device): Transition<Device> => {
  const data = dataOf(state, appId)
  if (data.devices.some((d) => d.deviceId === device.deviceId || d.info.nodeId === device.info.nodeId)) {
    return [Result.fail(specs.deviceBound), state]
  }
  return [Result.succeed(device), withData(state, appId, { ...data, devices: [...data.devices, device] })]
}

/**
 * One device of an app, or 100403.
 *
 * @internal
 */
export const findDevice = (state: State, appId: string, deviceId: string): Result.Result<Device, ErrorSpec> => {
  const device = dataOf(state, appId).devices.find((d) => d.deviceId === deviceId)
  return device === undefined ? Result.fail(specs.deviceNotFound) : Result.succeed(device)
}

/**
 * Deletes a device of an app (100403 if it has none by that id); its commands stay on record.
 *
 * @internal
 */
export const removeDevice = (state: State, appId: string, deviceId: string): Transition<Device> =>
  Result.match(findDevice(state, appId, deviceId), {
    onFailure: (spec) => [Result.fail(spec), state],
    onSuccess: (device) => {
      const data = dataOf(state, appId)
      return [
        Result.succeed(device),
        withData(state, appId, { ...data, devices: data.devices.filter((d) => d !== device) })
      ]
    }
  })

/**
 * The device query's filters; an unset one matches every device.
 *
 * @internal
 */
export interface DeviceFilter {
  readonly gatewayId?: string | undefined
  readonly nodeType?: string | undefined
  readonly deviceType?: string | undefined
  readonly status?: string | undefined
}

const matches = (wanted: string | undefined, actual: string | undefined): boolean =>
  wanted === undefined || wanted === actual

/**
 * An app's devices that pass `filter`, oldest first.
 *
 * @internal
 */
export const matchingDevices = (state: State, appId: string, filter: DeviceFilter): ReadonlyArray<Device> =>
  dataOf(state, appId).devices.filter((d) =>
    matches(filter.gatewayId, d.gatewayId) && matches(filter.nodeType, d.nodeType) &&
    matches(filter.deviceType, d.info.deviceType) && matches(filter.status, d.info.status)
  )

/**
 * Records a command to one of the app's devices (100418 when the app has no such device).
 *
 * @internal
 */
export const addCommand = (state: State, appId: string, command: Command): Transition<Command> => {
  const data = dataOf(state, appId)
  if (!data.devices.some((d) => d.deviceId === command.deviceId)) {
    return [Result.fail(specs.deviceDataNotFound), state]
  }
  return [Result.succeed(command), withData(state, appId, { ...data, commands: [...data.commands, command] })]
}

/**
 * The command query's filters: a device, and creation times from and to (epoch ms, inclusive).
 *
 * @internal
 */
export interface CommandFilter {
  readonly deviceId?: string | undefined
  readonly createdFrom?: number | undefined
  readonly createdTo?: number | undefined
}

/**
 * An app's commands that pass `filter`, oldest first.
 *
 * @internal
 */
export const matchingCommands = (state: State, appId: string, filter: CommandFilter): ReadonlyArray<Command> =>
  dataOf(state, appId).commands.filter((c) =>
    matches(filter.deviceId, c.deviceId) &&
    (filter.createdFrom === undefined || c.createdAt >= filter.createdFrom) &&
    (filter.createdTo === undefined || c.createdAt <= filter.createdTo)
  )

/**
 * Subscribes an app; subscribing again to the same `notifyType` and `callbackUrl` answers the
 * subscription it already has.
 *
 * @internal
 */
export const addSubscription = (state: State, appId: string, subscription: Subscription): Transition<Subscription> => {
  const data = dataOf(state, appId)
  const existing = data.subscriptions.find((s) =>
    s.notifyType === subscription.notifyType && s.callbackUrl === subscription.callbackUrl
  )
  if (existing !== undefined) return [Result.succeed(existing), state]
  return [
    Result.succeed(subscription),
    withData(state, appId, { ...data, subscriptions: [...data.subscriptions, subscription] })
  ]
}

/**
 * One subscription of an app, or 100225.
 *
 * @internal
 */
export const findSubscription = (
  state: State,
  appId: string,
  subscriptionId: string
): Result.Result<Subscription, ErrorSpec> => {
  const subscription = dataOf(state, appId).subscriptions.find((s) => s.subscriptionId === subscriptionId)
  return subscription === undefined ? Result.fail(specs.subscriptionNotFound) : Result.succeed(subscription)
}

/**
 * The subscription filters of a query or a batch deletion; an unset one matches every subscription.
 *
 * @internal
 */
export interface SubscriptionFilter {
  readonly notifyType?: string | undefined
  readonly callbackUrl?: string | undefined
}

const subscriptionMatches = (filter: SubscriptionFilter) => (s: Subscription): boolean =>
  matches(filter.notifyType, s.notifyType) && matches(filter.callbackUrl, s.callbackUrl)

/**
 * An app's subscriptions that pass `filter`, oldest first.
 *
 * @internal
 */
export const matchingSubscriptions = (
  state: State,
  appId: string,
  filter: SubscriptionFilter
): ReadonlyArray<Subscription> => dataOf(state, appId).subscriptions.filter(subscriptionMatches(filter))

/**
 * Deletes one subscription of an app (100225 if it has none by that id).
 *
 * @internal
 */
export const removeSubscription = (state: State, appId: string, subscriptionId: string): Transition<Subscription> =>
  Result.match(findSubscription(state, appId, subscriptionId), {
    onFailure: (spec) => [Result.fail(spec), state],
    onSuccess: (subscription) => {
      const data = dataOf(state, appId)
      return [
        Result.succeed(subscription),
        withData(state, appId, { ...data, subscriptions: data.subscriptions.filter((s) => s !== subscription) })
      ]
    }
  })

/**
 * Deletes every subscription of an app that passes `filter`, and answers how many went.
 *
 * @internal
 */
export const removeSubscriptions = (state: State, appId: string, filter: SubscriptionFilter): Transition<number> => {
  const data = dataOf(state, appId)
  const kept = data.subscriptions.filter((s) => !subscriptionMatches(filter)(s))
  return [
    Result.succeed(data.subscriptions.length - kept.length),
    withData(state, appId, { ...data, subscriptions: kept })
  ]
}

/**
 * The commands of one app, or of every app (in the order the apps first stored something).
 *
 * @internal
 */
export const commandsOf = (state: State, appId: string | undefined): ReadonlyArray<Command> =>
  appId === undefined ? Array.from(state.values()).flatMap((d) => d.commands) : dataOf(state, appId).commands

/**
 * The subscriptions of one app, or of every app.
 *
 * @internal
 */
export const subscriptionsOf = (state: State, appId: string | undefined): ReadonlyArray<Subscription> =>
  appId === undefined ? Array.from(state.values()).flatMap((d) => d.subscriptions) : dataOf(state, appId).subscriptions

/**
 * A page of a query: `pageNo` counts from 0.
 *
 * @internal
 */
export interface Page {
  readonly pageNo: number
  readonly pageSize: number
}

/**
 * The items of one page.
 *
 * @internal
 */
export const pageOf = <A>(items: ReadonlyArray<A>, page: Page): ReadonlyArray<A> =>
  items.slice(page.pageNo * page.pageSize, (page.pageNo + 1) * page.pageSize)

/**
 * How commands move on: sent `sendAfterMillis` after their creation, delivered `deliverAfterMillis`
 * after that.
 *
 * @internal
 */
export interface Delivery {
  readonly sendAfterMillis: number
  readonly deliverAfterMillis: number
}

/**
 * Where a command stands at some time.
 *
 * @internal
 */
export interface Progress {
  readonly status: CommandStatus
  readonly sentAt: number | undefined
  readonly deliveredAt: number | undefined
}

/**
 * Where `command` stands at `now`: `PENDING` until it is sent (at once when its `expireTime` is
 * 0), `SENT` until it is delivered, then `DELIVERED`; `EXPIRED` from its `expireTime` on if that
 * comes before it could be sent.
 *
 * @internal
 */
export const commandProgress = (command: Command, now: number, delivery: Delivery): Progress => {
  const sentAt = command.createdAt + (command.expireTime === 0 ? 0 : delivery.sendAfterMillis)
  const expiresAt = command.createdAt + command.expireTime * 1000
  if (command.expireTime > 0 && expiresAt <= sentAt && now >= expiresAt) {
    return { status: "EXPIRED", sentAt: undefined, deliveredAt: undefined }
  }
  if (now < sentAt) return { status: "PENDING", sentAt: undefined, deliveredAt: undefined }
  const deliveredAt = sentAt + delivery.deliverAfterMillis
  if (now < deliveredAt) return { status: "SENT", sentAt, deliveredAt: undefined }
  return { status: "DELIVERED", sentAt, deliveredAt }
}

/**
 * The apps' data in a `Ref`: transitions and reads, each at the `Clock`'s current time.
 *
 * @internal
 */
export interface Store {
  readonly modify: <A>(f: (state: State, now: number) => Transition<A>) => Effect.Effect<A, PlatformReject>
  readonly read: <A>(f: (state: State, now: number) => A) => Effect.Effect<A>
}

/** @internal */
export const make: Effect.Effect<Store> = Effect.map(Ref.make(initialState), (ref) => ({
  modify: (f) => Transitions.run(ref, f),
  read: (f) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.map(Ref.get(ref), (state) => f(state, now)))
}))

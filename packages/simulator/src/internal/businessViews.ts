/**
 * The business APIs' JSON bodies, with the field names of the vendor's API reference: a device
 * (`QueryDeviceDTOCloud2NA`), a command (`DeviceCommandResp`), a subscription, and their pages.
 * Fields the simulator does not model are there, `null`, as the platform sends them.
 *
 * @internal
 */
import * as AppStore from "./appStore.js"
import { formatWireTime } from "./wireTime.js"

const orNull = <A>(value: A | undefined): A | null => value ?? null

/**
 * A device as the device query and `GET …/devices/{deviceId}` answer it.
 *
 * @internal
 */
export const device = (device: AppStore.Device) => {
  const time = formatWireTime(device.createdAt)
  return {
    deviceId: device.deviceId,
    gatewayId: device.gatewayId,
    nodeType: device.nodeType,
    createTime: time,
    lastModifiedTime: time,
    deviceInfo: {
      nodeId: device.info.nodeId,
      name: orNull(device.info.name),
      description: null,
      manufacturerId: orNull(device.info.manufacturerId),
      manufacturerName: orNull(device.info.manufacturerName),
      mac: null,
      location: null,
      deviceType: orNull(device.info.deviceType),
      model: orNull(device.info.model),
      swVersion: null,
      fwVersion: null,
      hwVersion: null,
      protocolType: orNull(device.info.protocolType),
      bridgeId: null,
      status: device.info.status,
      statusDetail: "NONE",
      mute: "FALSE",
      supportedSecurity: null,
      isSecurity: null,
      signalStrength: null,
      sigVersion: null,
      serialNumber: null,
      batteryLevel: null
    },
    services: device.services.map((service) => ({
      serviceId: service.serviceId,
      serviceType: orNull(service.serviceType),
      status: "Active",
      data: orNull(service.data),
      eventTime: time,
      serviceInfo: null
    })),
    connectionInfo: null,
    devGroupIds: []
  }
}

/**
 * A page of the device query: `{ totalCount, pageNo, pageSize, devices }`.
 *
 * @internal
 */
export const devicePage = (devices: ReadonlyArray<AppStore.Device>, page: AppStore.Page) => ({
  totalCount: devices.length,
  pageNo: page.pageNo,
  pageSize: page.pageSize,
  devices: AppStore.pageOf(devices, page).map(device)
})

/**
 * A command, where it stands at `progress`.
 *
 * @internal
 */
export const command = (command: AppStore.Command, progress: AppStore.Progress) => ({
  commandId: command.commandId,
  appId: command.appId,
  deviceId: command.deviceId,
  command: {
    serviceId: command.command.serviceId,
    method: command.command.method,
    paras: orNull(command.command.paras)
  },
  callbackUrl: orNull(command.callbackUrl),
  expireTime: command.expireTime,
  status: progress.status,
  result: null,
  creationTime: formatWireTime(command.createdAt),
  executeTime: null,
  platformIssuedTime: progress.sentAt === undefined ? null : formatWireTime(progress.sentAt),
  deliveredTime: progress.deliveredAt === undefined ? null : formatWireTime(progress.deliveredAt),
  issuedTimes: progress.sentAt === undefined ? 0 : 1,
  maxRetransmit: command.maxRetransmit
})

/**
 * A page of the command query: `{ pagination: { pageNo, pageSize, totalSize }, data }`.
 *
 * @internal
 */
export const commandPage = (
  commands: ReadonlyArray<AppStore.Command>,
  page: AppStore.Page,
  progressOf: (command: AppStore.Command) => AppStore.Progress
) => ({
  pagination: { pageNo: page.pageNo, pageSize: page.pageSize, totalSize: commands.length },
  data: AppStore.pageOf(commands, page).map((c) => command(c, progressOf(c)))
})

/**
 * A subscription: `{ subscriptionId, notifyType, callbackUrl }`.
 *
 * @internal
 */
export const subscription = (subscription: AppStore.Subscription) => ({
  subscriptionId: subscription.subscriptionId,
  notifyType: subscription.notifyType,
  callbackUrl: subscription.callbackUrl
})

/**
 * A page of the subscription query: `{ totalCount, pageNo, pageSize, subscriptions }`.
 *
 * @internal
 */
export const subscriptionPage = (subscriptions: ReadonlyArray<AppStore.Subscription>, page: AppStore.Page) => ({
  totalCount: subscriptions.length,
  pageNo: page.pageNo,
  pageSize: page.pageSize,
  subscriptions: AppStore.pageOf(subscriptions, page).map(subscription)
})

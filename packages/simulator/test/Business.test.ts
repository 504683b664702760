/**
 * The business APIs over the wire with Node's own `https`: the bodies they answer, their paging and
 * filters, the platform's error codes for bad input, per-app data, and the control API that seeds
 * devices and reads back commands and subscriptions.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }
const otherApp = { appId: "other-app", secret: "other-secret" }

const platformError = (code: string, desc: string) => ({ error_code: code, error_desc: desc })
const invalidInput = { status: 400, body: platformError("100022", "The input is invalid.") }
const deviceNotFound = { status: 404, body: platformError("100403", "The device is not existed.") }

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const wireTime = /^\d{8}T\d{6}Z$/

interface DeviceBody {
  readonly deviceId: string
  readonly gatewayId: string
  readonly nodeType: string
  readonly createTime: string
  readonly lastModifiedTime: string
  readonly deviceInfo: Record<string, unknown>
  readonly services: ReadonlyArray<Record<string, unknown>>
}

interface DevicePage {
  readonly totalCount: number
  readonly pageNo: number
  readonly pageSize: number
  readonly devices: ReadonlyArray<DeviceBody>
}

/** A simulator, the demo app's credentials for business calls, and the other app's. */
const started = (options: Simulator.SimulatorOptions = {}) =>
  Effect.gen(function*() {
    const s = yield* Simulator.make({ apps: [otherApp], ...options })
    return { s, mine: yield* W.session(s, demo), theirs: yield* W.session(s, otherApp) }
  })

const command = (deviceId: string, extra: Record<string, unknown> = {}) => ({
  deviceId,
  command: { serviceId: "Light", method: "SWITCH", paras: { on: true } },
  ...extra
})

describe("device query and device", () => {
  it.live("seeded devices in the vendor's shape, paged, filtered by gatewayId and deviceType, per app", () =>
    Effect.gen(function*() {
      const { mine, s, theirs } = yield* started()
      const gateway = yield* s.seedDevice({ nodeId: "gw-1", nodeType: "GATEWAY", deviceType: "Gateway" })
      const meter = yield* s.seedDevice({
        nodeId: "meter-1",
        gatewayId: gateway,
        deviceType: "WaterMeter",
        manufacturerId: "acme",
        model: "NB-1",
        protocolType: "CoAP",
        name: "Meter one",
        services: [{ serviceId: "Water", serviceType: "Water", data: { level: 3 } }]
      })
      yield* s.seedDevice({ nodeId: "lamp-1", deviceId: "lamp-device", gatewayId: gateway, deviceType: "Lamp" })
      yield* s.seedDevice({ appId: otherApp.appId, nodeId: "theirs-1" })

      const all = W.json(yield* W.call(s, mine, { path: W.devicesPath })) as DevicePage
      assert.strictEqual(all.totalCount, 3)
      assert.strictEqual(all.pageNo, 0)
      assert.strictEqual(all.pageSize, 10)
      const body = all.devices[1]!
      assert.deepStrictEqual(Object.keys(body).sort(), [
        "connectionInfo",
        "createTime",
        "devGroupIds",
        "deviceId",
        "deviceInfo",
        "gatewayId",
        "lastModifiedTime",
        "nodeType",
        "services"
      ])
      assert.strictEqual(body.deviceId, meter)
      assert.match(meter, uuid)
      assert.strictEqual(body.gatewayId, gateway)
      assert.strictEqual(body.nodeType, "ENDPOINT")
      assert.match(body.createTime, wireTime)
      assert.include(body.deviceInfo, {
        nodeId: "meter-1",
        name: "Meter one",
        manufacturerId: "acme",
        deviceType: "WaterMeter",
        model: "NB-1",
        protocolType: "CoAP",
        status: "ONLINE",
        mac: null
      })
      assert.deepStrictEqual(body.services.map((service) => [service["serviceId"], service["data"]]), [
        ["Water", { level: 3 }]
      ])
      assert.strictEqual(all.devices[0]!.gatewayId, gateway, "a gateway is its own gateway")

      const query = (params: string) =>
        Effect.map(W.call(s, mine, { path: `${W.devicesPath}?${params}` }), (r) => W.json(r) as DevicePage)
      const ids = (page: DevicePage) => page.devices.map((d) => d.deviceInfo["nodeId"])
      assert.deepStrictEqual(ids(yield* query(`gatewayId=${gateway}`)), ["gw-1", "meter-1", "lamp-1"])
      assert.deepStrictEqual(ids(yield* query(`gatewayId=${gateway}&deviceType=Lamp`)), ["lamp-1"])
      assert.deepStrictEqual(ids(yield* query("deviceType=WaterMeter")), ["meter-1"])
      const second = yield* query("pageNo=1&pageSize=2")
      assert.deepStrictEqual([second.totalCount, second.pageNo, second.pageSize, ids(second)], [3, 1, 2, ["lamp-1"]])
      assert.deepStrictEqual(ids(yield* query("pageNo=5&pageSize=2")), [])
      // The older versions of the API answer the same.
      for (const version of ["v1.1.0", "v1.3.0"]) {
        const older = W.json(yield* W.call(s, mine, { path: `/iocm/app/dm/${version}/devices` }))
        assert.deepStrictEqual(older, all, version)
      }
      // The other app sees its own device only.
      assert.deepStrictEqual(ids(W.json(yield* W.call(s, theirs, { path: W.devicesPath })) as DevicePage), ["theirs-1"])
    }))

  it.live("bad paging is 400/100022", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started()
      for (const params of ["pageNo=-1", "pageNo=abc", "pageNo=1.5", "pageSize=0", "pageSize=1001", "pageSize=ten"]) {
        assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { path: `${W.devicesPath}?${params}` })), invalidInput)
      }
      const page = W.json(yield* W.call(s, mine, { path: `${W.devicesPath}?pageNo=0&pageSize=1000` })) as DevicePage
      assert.strictEqual(page.pageSize, 1000)
    }))

  it.live("one device; deleting it (204); then both are 404/100403; another app's device is 404/100403", () =>
    Effect.gen(function*() {
      const { mine, s, theirs } = yield* started()
      const deviceId = yield* s.seedDevice({ nodeId: "node/with space", deviceType: "Lamp" })
      const one = yield* W.call(s, mine, { path: W.devicePath(deviceId) })
      assert.strictEqual(one.status, 200)
      assert.strictEqual((W.json(one) as DeviceBody).deviceInfo["nodeId"], "node/with space")
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, theirs, { path: W.devicePath(deviceId) })), deviceNotFound)
      assert.deepStrictEqual(
        W.errorOf(yield* W.call(s, theirs, { method: "DELETE", path: W.devicePath(deviceId) })),
        deviceNotFound
      )
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { path: W.devicePath("nope") })), deviceNotFound)
      const deleted = yield* W.call(s, mine, { method: "DELETE", path: `${W.devicePath(deviceId)}?cascade=false` })
      assert.strictEqual(deleted.status, 204)
      assert.strictEqual(deleted.text, "")
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { path: W.devicePath(deviceId) })), deviceNotFound)
      assert.deepStrictEqual(
        W.errorOf(yield* W.call(s, mine, { method: "DELETE", path: W.devicePath(deviceId) })),
        deviceNotFound
      )
      assert.strictEqual((W.json(yield* W.call(s, mine, { path: W.devicesPath })) as DevicePage).totalCount, 0)
    }))
})

describe("device registration", () => {
  it.live("answers deviceId, verifyCode, timeout and psk; the device is then listed, OFFLINE", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started()
      const res = yield* W.call(s, mine, {
        path: `${W.registrationPath}?appId=${demo.appId}`,
        body: {
          nodeId: "863703036000001",
          verifyCode: "863703036000001",
          timeout: 300,
          psk: "0123456789abcdef",
          endUserId: "user-1",
          isSecure: false,
          deviceInfo: { deviceType: "WaterMeter", manufacturerId: "acme", protocolType: "CoAP" }
        }
      })
      assert.strictEqual(res.status, 200)
      const body = W.json(res) as { readonly deviceId: string; readonly [field: string]: unknown }
      assert.deepStrictEqual(Object.keys(body).sort(), ["deviceId", "psk", "timeout", "verifyCode"])
      assert.match(body.deviceId, uuid)
      assert.deepStrictEqual(body, {
        deviceId: body.deviceId,
        verifyCode: "863703036000001",
        timeout: 300,
        psk: "0123456789abcdef"
      })
      const listed = W.json(yield* W.call(s, mine, { path: `${W.devicesPath}?deviceType=WaterMeter` })) as DevicePage
      assert.strictEqual(listed.totalCount, 1)
      const device = listed.devices[0]!
      assert.strictEqual(device.deviceId, body.deviceId)
      assert.strictEqual(device.gatewayId, body.deviceId)
      assert.include(device.deviceInfo, { nodeId: "863703036000001", status: "OFFLINE", manufacturerId: "acme" })
    }))

  it.live("defaults: verifyCode is the nodeId, timeout 180, a generated psk; null fields and digit strings are read", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started()
      const plain = W.json(yield* W.call(s, mine, { path: W.registrationPath, body: { nodeId: "n-1" } }))
      assert.deepInclude(plain, { verifyCode: "n-1", timeout: 180 })
      assert.match((plain as { psk: string }).psk, /^[0-9a-f]{32}$/)
      const lenient = yield* W.call(s, mine, {
        path: W.registrationPath,
        body: { nodeId: "n-2", verifyCode: null, psk: null, timeout: "0", endUserId: null, deviceInfo: null }
      })
      assert.strictEqual(lenient.status, 200)
      assert.deepInclude(W.json(lenient), { verifyCode: "n-2", timeout: 0 })
      // The body is read as JSON whatever its content type.
      const mislabelled = yield* W.send(s, {
        path: W.registrationPath,
        headers: { app_key: demo.appId, authorization: `Bearer ${mine.token}`, "content-type": "text/plain" },
        body: JSON.stringify({ nodeId: "n-3" })
      })
      assert.strictEqual(mislabelled.status, 200)
    }))

  it.live("bad input is 400/100022; a nodeId the app already has is 400/100416; another app may have it", () =>
    Effect.gen(function*() {
      const { mine, s, theirs } = yield* started()
      const bodies: ReadonlyArray<unknown> = [
        {},
        "",
        { nodeId: "" },
        { nodeId: null },
        { nodeId: 42 },
        { nodeId: "n".repeat(257) },
        { nodeId: "n", timeout: -1 },
        { nodeId: "n", timeout: "soon" },
        { nodeId: "n", timeout: 1.5 },
        { nodeId: "n", psk: "not-hex-at-all" },
        { nodeId: "n", psk: "abc" },
        { nodeId: "n", verifyCode: "" },
        { nodeId: "n", deviceInfo: "meter" },
        "{\"nodeId\": ",
        "[{\"nodeId\":\"n\"}]",
        "null"
      ]
      for (const body of bodies) {
        const res = yield* W.call(s, mine, { method: "POST", path: W.registrationPath, body })
        assert.deepStrictEqual(W.errorOf(res), invalidInput, JSON.stringify(body))
      }
      assert.strictEqual((yield* W.call(s, mine, { path: W.registrationPath, body: { nodeId: "dup" } })).status, 200)
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { path: W.registrationPath, body: { nodeId: "dup" } })), {
        status: 400,
        body: platformError("100416", "The device has already been bound.")
      })
      assert.strictEqual((yield* W.call(s, theirs, { path: W.registrationPath, body: { nodeId: "dup" } })).status, 200)
    }))

  it.live("a body over the size limit is 413, like every other endpoint", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started({ maxBodySize: 1024 })
      const res = yield* W.call(s, mine, { path: W.registrationPath, body: { nodeId: "n", padding: "p".repeat(2048) } })
      assert.deepStrictEqual(W.errorOf(res), { status: 413, body: platformError("50400", "The input is invalid.") })
    }))
})

describe("device commands", () => {
  it.live("POST answers 201 with the command, PENDING; GET pages them; the control API reads them back", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started()
      const deviceId = yield* s.seedDevice({ nodeId: "lamp-1" })
      const other = yield* s.seedDevice({ nodeId: "lamp-2" })
      const res = yield* W.call(s, mine, {
        path: `${W.commandsPath}?appId=${demo.appId}`,
        body: command(deviceId, { callbackUrl: "https://na.example/commands", expireTime: 600, maxRetransmit: 1 })
      })
      assert.strictEqual(res.status, 201)
      const body = W.json(res) as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(body).sort(), [
        "appId",
        "callbackUrl",
        "command",
        "commandId",
        "creationTime",
        "deliveredTime",
        "deviceId",
        "executeTime",
        "expireTime",
        "issuedTimes",
        "maxRetransmit",
        "platformIssuedTime",
        "result",
        "status"
      ])
      assert.match(String(body["commandId"]), /^[0-9a-f]{32}$/)
      assert.match(String(body["creationTime"]), wireTime)
      assert.deepInclude(body, {
        appId: demo.appId,
        deviceId,
        command: { serviceId: "Light", method: "SWITCH", paras: { on: true } },
        callbackUrl: "https://na.example/commands",
        expireTime: 600,
        maxRetransmit: 1,
        status: "PENDING",
        platformIssuedTime: null,
        deliveredTime: null,
        issuedTimes: 0
      })
      const defaults = W.json(yield* W.call(s, mine, { path: W.commandsPath, body: command(other) }))
      assert.deepInclude(defaults, { callbackUrl: null, expireTime: 172_800, maxRetransmit: 3 })
      yield* W.call(s, mine, {
        path: W.commandsPath,
        body: command(deviceId, { command: { serviceId: "S", method: "M" } })
      })

      type Page = { pagination: Record<string, number>; data: ReadonlyArray<{ commandId: string; deviceId: string }> }
      const page = (params: string) =>
        Effect.map(W.call(s, mine, { path: `${W.commandsPath}?${params}` }), (r) => W.json(r) as Page)
      const all = yield* page("")
      assert.deepStrictEqual(all.pagination, { pageNo: 0, pageSize: 1000, totalSize: 3 })
      assert.strictEqual(all.data[0]!.commandId, body["commandId"])
      const mineOnly = yield* page(`deviceId=${deviceId}&pageNo=0&pageSize=1`)
      assert.deepStrictEqual(mineOnly.pagination, { pageNo: 0, pageSize: 1, totalSize: 2 })
      assert.deepStrictEqual(mineOnly.data.map((c) => c.deviceId), [deviceId])
      const today = String(body["creationTime"]).slice(0, 8)
      assert.strictEqual(
        (yield* page(`startTime=${today}T000000Z&endTime=${today}T235959Z`)).pagination["totalSize"],
        3
      )
      assert.strictEqual((yield* page("endTime=20000101T000000Z")).pagination["totalSize"], 0)
      for (const params of ["startTime=yesterday", "endTime=2024-01-01", "pageSize=0"]) {
        assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { path: `${W.commandsPath}?${params}` })), invalidInput)
      }

      const sent = yield* s.commands(demo.appId)
      assert.deepStrictEqual(sent.map((c) => c.commandId), all.data.map((c) => c.commandId))
      assert.deepInclude(sent[0], { status: "PENDING", callbackUrl: "https://na.example/commands", expireTime: 600 })
      assert.deepStrictEqual(yield* s.commands(otherApp.appId), [])
      const overHttp = W.json(yield* W.send(s, { path: `/_simulator/commands?appId=${demo.appId}` })) as {
        commands: ReadonlyArray<{ commandId: string; status: string }>
      }
      assert.deepStrictEqual(overHttp.commands.map((c) => c.commandId), sent.map((c) => c.commandId))
    }))

  it.live("to a device the app does not have: 404/100418; bad input: 400/100022", () =>
    Effect.gen(function*() {
      const { mine, s, theirs } = yield* started()
      const deviceId = yield* s.seedDevice({ nodeId: "lamp-1" })
      const noDevice = { status: 404, body: platformError("100418", "The deviceData is not existed.") }
      assert.deepStrictEqual(
        W.errorOf(yield* W.call(s, mine, { path: W.commandsPath, body: command("nope") })),
        noDevice
      )
      assert.deepStrictEqual(
        W.errorOf(yield* W.call(s, theirs, { path: W.commandsPath, body: command(deviceId) })),
        noDevice
      )
      const bodies: ReadonlyArray<unknown> = [
        {},
        { command: command(deviceId).command },
        { deviceId },
        { deviceId, command: { serviceId: "Light" } },
        { deviceId, command: { method: "SWITCH" } },
        { deviceId, command: { serviceId: "", method: "SWITCH" } },
        command(deviceId, { command: { serviceId: "Light", method: "SWITCH", paras: [1, 2] } }),
        command(deviceId, { command: { serviceId: "Light", method: "SWITCH", paras: "on" } }),
        command(deviceId, { callbackUrl: "ftp://na.example/x" }),
        command(deviceId, { callbackUrl: "not a url" }),
        command(deviceId, { expireTime: -1 }),
        command(deviceId, { maxRetransmit: 4 }),
        "[]",
        "{"
      ]
      for (const body of bodies) {
        const res = yield* W.call(s, mine, { method: "POST", path: W.commandsPath, body })
        assert.deepStrictEqual(W.errorOf(res), invalidInput, JSON.stringify(body))
      }
      assert.deepStrictEqual(
        W.errorOf(yield* W.call(s, mine, { path: W.commandsPath, body: command(deviceId, { appId: otherApp.appId }) })),
        { status: 403, body: platformError("100217", "The application hasn't been authorized.") }
      )
      const own = yield* W.call(s, mine, { path: W.commandsPath, body: command(deviceId, { appId: demo.appId }) })
      assert.strictEqual(own.status, 201)
      const nulls = yield* W.call(s, mine, {
        path: W.commandsPath,
        body: command(deviceId, { callbackUrl: null, expireTime: null, maxRetransmit: "2" })
      })
      assert.strictEqual(nulls.status, 201)
      assert.deepInclude(W.json(nulls), { callbackUrl: null, expireTime: 172_800, maxRetransmit: 2 })
      assert.strictEqual((yield* s.commands()).length, 2)
    }))
})

describe("subscriptions", () => {
  type SubscriptionPage = {
    totalCount: number
    pageNo: number
    pageSize: number
    subscriptions: ReadonlyArray<{ subscriptionId: string; notifyType: string; callbackUrl: string }>
  }

  it.live("subscribe (201), again (the same subscription), query, get, delete one or by notifyType", () =>
    Effect.gen(function*() {
      const { mine, s, theirs } = yield* started()
      const subscribe = (notifyType: string, callbackUrl: string, extra: Record<string, unknown> = {}) =>
        W.call(s, mine, { path: W.subscriptionsPath, body: { notifyType, callbackUrl, ...extra } })
      const first = yield* subscribe("deviceDataChanged", "https://na.example/data", { ownerFlag: "true" })
      assert.strictEqual(first.status, 201)
      const body = W.json(first) as { readonly subscriptionId: string; readonly [field: string]: unknown }
      assert.match(body.subscriptionId, uuid)
      assert.deepStrictEqual(body, {
        subscriptionId: body.subscriptionId,
        notifyType: "deviceDataChanged",
        callbackUrl: "https://na.example/data"
      })
      const again = W.json(yield* subscribe("deviceDataChanged", "https://na.example/data"))
      assert.deepStrictEqual(again, body)
      yield* subscribe("commandRsp", "http://na.example/commands", { appId: demo.appId })
      // ownerFlag may come in the query, as SDKs send it.
      const flagged = yield* W.call(s, mine, {
        path: `${W.subscriptionsPath}?ownerFlag=false`,
        body: { notifyType: "deviceDataChanged", callbackUrl: "https://na.example/other" }
      })
      assert.strictEqual(flagged.status, 201)
      assert.deepStrictEqual((yield* s.subscriptions()).map((x) => x.ownerFlag), [true, undefined, false])

      const query = (params: string, who = mine) =>
        Effect.map(W.call(s, who, { path: `${W.subscriptionsPath}?${params}` }), (r) => W.json(r) as SubscriptionPage)
      const all = yield* query("")
      assert.deepStrictEqual([all.totalCount, all.pageNo, all.pageSize], [3, 0, 10])
      assert.deepStrictEqual(all.subscriptions[0], body)
      assert.strictEqual((yield* query("notifyType=deviceDataChanged&pageSize=1")).subscriptions.length, 1)
      assert.strictEqual((yield* query("notifyType=deviceDataChanged")).totalCount, 2)
      assert.strictEqual((yield* query("", theirs)).totalCount, 0)
      assert.deepStrictEqual(
        W.errorOf(yield* W.call(s, mine, { path: `${W.subscriptionsPath}?notifyType=everything` })),
        invalidInput
      )

      const one = `${W.subscriptionsPath}/${body.subscriptionId}`
      assert.deepStrictEqual(W.json(yield* W.call(s, mine, { path: one })), body)
      const notFound = { status: 404, body: platformError("100225", "The resource is not found.") }
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, theirs, { path: one })), notFound)
      assert.strictEqual((yield* W.call(s, mine, { method: "DELETE", path: one })).status, 204)
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { path: one })), notFound)
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, mine, { method: "DELETE", path: one })), notFound)

      const remaining = yield* s.subscriptions(demo.appId)
      assert.deepStrictEqual(remaining.map((x) => x.notifyType), ["commandRsp", "deviceDataChanged"])
      const deleted = yield* W.call(s, mine, { method: "DELETE", path: `${W.subscriptionsPath}?notifyType=commandRsp` })
      assert.strictEqual(deleted.status, 204)
      assert.deepStrictEqual((yield* s.subscriptions()).map((x) => x.callbackUrl), ["https://na.example/other"])
      const overHttp = W.json(yield* W.send(s, { path: "/_simulator/subscriptions" })) as SubscriptionPage
      assert.strictEqual(overHttp.subscriptions.length, 1)
    }))

  it.live("an illegal callbackUrl is 400/100222, other bad input 400/100022, another app's appId 403/100217", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started()
      const subscribe = (body: unknown) => W.call(s, mine, { method: "POST", path: W.subscriptionsPath, body })
      for (const callbackUrl of ["not a url", "ftp://na.example/x", "na.example/x"]) {
        assert.deepStrictEqual(W.errorOf(yield* subscribe({ notifyType: "deviceAdded", callbackUrl })), {
          status: 400,
          body: platformError("100222", "The request callbackurl is illegal.")
        }, callbackUrl)
      }
      const bodies: ReadonlyArray<unknown> = [
        {},
        { notifyType: "deviceAdded" },
        { callbackUrl: "https://na.example" },
        { notifyType: "somethingElse", callbackUrl: "https://na.example" },
        { notifyType: "deviceAdded", callbackUrl: "" },
        { notifyType: "deviceAdded", callbackUrl: "https://na.example", ownerFlag: "maybe" },
        "[]"
      ]
      for (const body of bodies) {
        assert.deepStrictEqual(W.errorOf(yield* subscribe(body)), invalidInput, JSON.stringify(body))
      }
      const badFlag = yield* W.call(s, mine, {
        path: `${W.subscriptionsPath}?ownerFlag=yes`,
        body: { notifyType: "deviceAdded", callbackUrl: "https://na.example" }
      })
      assert.deepStrictEqual(W.errorOf(badFlag), invalidInput)
      assert.deepStrictEqual(
        W.errorOf(
          yield* subscribe({ notifyType: "deviceAdded", callbackUrl: "https://na.example", appId: "other-app" })
        ),
        { status: 403, body: platformError("100217", "The application hasn't been authorized.") }
      )
      assert.deepStrictEqual(yield* s.subscriptions(), [])
    }))
})

describe("the control API's business data", () => {
  it.live("seedDevice: an unknown app, an empty or a duplicate nodeId or deviceId fail, typed", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      yield* s.seedDevice({ nodeId: "n-1", deviceId: "d-1" })
      assert.strictEqual(
        (yield* Effect.flip(s.seedDevice({ appId: "nobody", nodeId: "n" })))._tag,
        "NoSuchElementError"
      )
      for (
        const seed of [{ nodeId: "" }, { nodeId: "n-2", deviceId: "" }, { nodeId: "n-1" }, {
          nodeId: "n-3",
          deviceId: "d-1"
        }]
      ) {
        assert.strictEqual((yield* Effect.flip(s.seedDevice(seed)))._tag, "IllegalArgumentError", JSON.stringify(seed))
      }
    }))

  it.live("POST /_simulator/devices seeds a device (201 with its deviceId); bad, unknown-app or duplicate seeds are refused", () =>
    Effect.gen(function*() {
      const { mine, s } = yield* started()
      const seed = (body: unknown) =>
        W.send(s, {
          method: "POST",
          path: "/_simulator/devices",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body)
        })
      const res = yield* seed({
        nodeId: "lamp-1",
        deviceType: "Lamp",
        status: "OFFLINE",
        services: [{ serviceId: "Light" }]
      })
      assert.strictEqual(res.status, 201)
      const { deviceId } = W.json(res) as { deviceId: string }
      const device = W.json(yield* W.call(s, mine, { path: W.devicePath(deviceId) })) as DeviceBody
      assert.include(device.deviceInfo, { nodeId: "lamp-1", deviceType: "Lamp", status: "OFFLINE" })
      assert.strictEqual((yield* seed({ nodeId: "x", appId: otherApp.appId })).status, 201)
      assert.strictEqual((yield* seed({ nodeId: "y", appId: "nobody" })).status, 404)
      for (
        const bad of [{}, { nodeId: "" }, { nodeId: "z", colour: "red" }, { nodeId: "z", status: "ASLEEP" }, {
          nodeId: "lamp-1"
        }]
      ) {
        assert.strictEqual((yield* seed(bad)).status, 400, JSON.stringify(bad))
      }
      assert.deepStrictEqual((yield* s.counters).requests.other, { control: 2, "404": 1, "50400": 5 })
    }))
})

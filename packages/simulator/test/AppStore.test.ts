/**
 * The apps' business data as pure transitions: no fibers, no network, time passed in.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as AppStore from "../src/internal/appStore.js"
import { formatWireTime, parseWireTime } from "../src/internal/wireTime.js"

const device = (deviceId: string, nodeId: string, extra: Partial<AppStore.NewDevice> = {}) =>
  AppStore.newDevice({ deviceId, nodeId, status: "ONLINE", ...extra }, 1_000)

const command = (commandId: string, deviceId: string, extra: Partial<AppStore.Command> = {}): AppStore.Command => ({
  commandId,
  appId: "app",
  deviceId,
  command: { serviceId: "Light", method: "SWITCH", paras: { on: true } },
  callbackUrl: undefined,
  expireTime: 172_800,
  maxRetransmit: 3,
  createdAt: 10_000,
  ...extra
})

const subscription = (subscriptionId: string, notifyType: string, callbackUrl = "https://na.example/cb") => ({
  subscriptionId,
  appId: "app",
  notifyType,
  callbackUrl,
  ownerFlag: undefined
})

/** Applies transitions in turn, failing the test on a refused one. */
const applied = (
  state: AppStore.State,
  ...steps: ReadonlyArray<(state: AppStore.State) => readonly [Result.Result<unknown, unknown>, AppStore.State]>
): AppStore.State =>
  steps.reduce((current, step) => {
    const [result, next] = step(current)
    assert.isTrue(Result.isSuccess(result))
    return next
  }, state)

const codeOf = (result: Result.Result<unknown, { readonly code: string }>) =>
  Result.match(result, { onFailure: (spec) => spec.code, onSuccess: () => "ok" })

describe("app store", () => {
  it("a new device is directly connected, an ENDPOINT, with no services, unless told otherwise", () => {
    const plain = device("d1", "n1")
    assert.strictEqual(plain.gatewayId, "d1")
    assert.strictEqual(plain.nodeType, "ENDPOINT")
    assert.deepStrictEqual(plain.services, [])
    assert.strictEqual(plain.createdAt, 1_000)
    const child = device("d2", "n2", { gatewayId: "d1", nodeType: "GATEWAY", deviceType: "Meter" })
    assert.strictEqual(child.gatewayId, "d1")
    assert.strictEqual(child.info.deviceType, "Meter")
  })

  it("devices: a deviceId or nodeId an app already has is 100416; apps do not see each other's", () => {
    const state = applied(AppStore.initialState, (s) => AppStore.addDevice(s, "app", device("d1", "n1")))
    const cases: ReadonlyArray<readonly [string, AppStore.Device, string]> = [
      ["app", device("d1", "other-node"), "100416"],
      ["app", device("other-device", "n1"), "100416"],
      ["app", device("d2", "n2"), "ok"],
      ["other", device("d1", "n1"), "ok"]
    ]
    for (const [appId, candidate, expected] of cases) {
      const [result, next] = AppStore.addDevice(state, appId, candidate)
      assert.strictEqual(codeOf(result), expected, `${appId} ${candidate.deviceId}/${candidate.info.nodeId}`)
      if (expected !== "ok") assert.strictEqual(next, state)
    }
    assert.strictEqual(codeOf(AppStore.findDevice(state, "app", "d1")), "ok")
    assert.strictEqual(codeOf(AppStore.findDevice(state, "other", "d1")), "100403")
  })

  it("removing a device: 100403 when the app has none by that id; its commands stay on record", () => {
    const state = applied(
      AppStore.initialState,
      (s) => AppStore.addDevice(s, "app", device("d1", "n1")),
      (s) => AppStore.addCommand(s, "app", command("c1", "d1"))
    )
    assert.strictEqual(codeOf(AppStore.removeDevice(state, "other", "d1")[0]), "100403")
    const [removed, after] = AppStore.removeDevice(state, "app", "d1")
    assert.strictEqual(codeOf(removed), "ok")
    assert.strictEqual(codeOf(AppStore.findDevice(after, "app", "d1")), "100403")
    assert.strictEqual(AppStore.matchingCommands(after, "app", {}).length, 1)
    assert.strictEqual(codeOf(AppStore.removeDevice(after, "app", "d1")[0]), "100403")
  })

  it("the device query filters on gatewayId, nodeType, deviceType and status, oldest first", () => {
    const state = applied(
      AppStore.initialState,
      (s) => AppStore.addDevice(s, "app", device("gw", "n0", { nodeType: "GATEWAY", deviceType: "Gateway" })),
      (s) => AppStore.addDevice(s, "app", device("d1", "n1", { gatewayId: "gw", deviceType: "Meter" })),
      (s) =>
        AppStore.addDevice(s, "app", device("d2", "n2", { gatewayId: "gw", deviceType: "Lamp", status: "OFFLINE" })),
      (s) => AppStore.addDevice(s, "app", device("d3", "n3", { deviceType: "Meter" }))
    )
    const cases: ReadonlyArray<readonly [AppStore.DeviceFilter, ReadonlyArray<string>]> = [
      [{}, ["gw", "d1", "d2", "d3"]],
      [{ gatewayId: "gw" }, ["gw", "d1", "d2"]],
      [{ deviceType: "Meter" }, ["d1", "d3"]],
      [{ gatewayId: "gw", deviceType: "Meter" }, ["d1"]],
      [{ nodeType: "GATEWAY" }, ["gw"]],
      [{ status: "OFFLINE" }, ["d2"]],
      [{ deviceType: "Nothing" }, []]
    ]
    for (const [filter, expected] of cases) {
      assert.deepStrictEqual(
        AppStore.matchingDevices(state, "app", filter).map((d) => d.deviceId),
        expected,
        JSON.stringify(filter)
      )
    }
    assert.deepStrictEqual(AppStore.matchingDevices(state, "other", {}), [])
  })

  it("pages count from 0; a page past the end is empty", () => {
    const items = ["a", "b", "c", "d", "e"]
    const cases: ReadonlyArray<readonly [AppStore.Page, ReadonlyArray<string>]> = [
      [{ pageNo: 0, pageSize: 2 }, ["a", "b"]],
      [{ pageNo: 2, pageSize: 2 }, ["e"]],
      [{ pageNo: 3, pageSize: 2 }, []],
      [{ pageNo: 0, pageSize: 10 }, items]
    ]
    for (const [page, expected] of cases) {
      assert.deepStrictEqual(AppStore.pageOf(items, page), expected, JSON.stringify(page))
    }
  })

  it("commands go to one of the app's own devices only (100418), and filter by device and creation time", () => {
    const state = applied(
      AppStore.initialState,
      (s) => AppStore.addDevice(s, "app", device("d1", "n1")),
      (s) => AppStore.addDevice(s, "app", device("d2", "n2")),
      (s) => AppStore.addCommand(s, "app", command("c1", "d1", { createdAt: 1_000 })),
      (s) => AppStore.addCommand(s, "app", command("c2", "d2", { createdAt: 2_000 })),
      (s) => AppStore.addCommand(s, "app", command("c3", "d1", { createdAt: 3_000 }))
    )
    assert.strictEqual(codeOf(AppStore.addCommand(state, "app", command("c4", "nowhere"))[0]), "100418")
    assert.strictEqual(codeOf(AppStore.addCommand(state, "other", command("c4", "d1"))[0]), "100418")
    const cases: ReadonlyArray<readonly [AppStore.CommandFilter, ReadonlyArray<string>]> = [
      [{}, ["c1", "c2", "c3"]],
      [{ deviceId: "d1" }, ["c1", "c3"]],
      [{ createdFrom: 2_000 }, ["c2", "c3"]],
      [{ createdTo: 2_000 }, ["c1", "c2"]],
      [{ deviceId: "d1", createdFrom: 1_500, createdTo: 3_000 }, ["c3"]]
    ]
    for (const [filter, expected] of cases) {
      assert.deepStrictEqual(
        AppStore.matchingCommands(state, "app", filter).map((c) => c.commandId),
        expected,
        JSON.stringify(filter)
      )
    }
    assert.deepStrictEqual(AppStore.commandsOf(state, "other"), [])
    assert.strictEqual(AppStore.commandsOf(state, undefined).length, 3)
  })

  it("a command's status follows the clock: PENDING, SENT, DELIVERED; at once with expireTime 0; EXPIRED unsent", () => {
    const delivery: AppStore.Delivery = { sendAfterMillis: 1_000, deliverAfterMillis: 2_000 }
    const sent = command("c", "d", { createdAt: 10_000 })
    const immediate = command("c", "d", { createdAt: 10_000, expireTime: 0 })
    const slow: AppStore.Delivery = { sendAfterMillis: 60_000, deliverAfterMillis: 0 }
    const shortLived = command("c", "d", { createdAt: 10_000, expireTime: 30 })
    const cases: ReadonlyArray<readonly [AppStore.Command, AppStore.Delivery, number, AppStore.Progress]> = [
      [sent, delivery, 10_000, { status: "PENDING", sentAt: undefined, deliveredAt: undefined }],
      [sent, delivery, 10_999, { status: "PENDING", sentAt: undefined, deliveredAt: undefined }],
      [sent, delivery, 11_000, { status: "SENT", sentAt: 11_000, deliveredAt: undefined }],
      [sent, delivery, 12_999, { status: "SENT", sentAt: 11_000, deliveredAt: undefined }],
      [sent, delivery, 13_000, { status: "DELIVERED", sentAt: 11_000, deliveredAt: 13_000 }],
      [immediate, delivery, 10_000, { status: "SENT", sentAt: 10_000, deliveredAt: undefined }],
      [immediate, delivery, 12_000, { status: "DELIVERED", sentAt: 10_000, deliveredAt: 12_000 }],
      [shortLived, slow, 39_999, { status: "PENDING", sentAt: undefined, deliveredAt: undefined }],
      [shortLived, slow, 40_000, { status: "EXPIRED", sentAt: undefined, deliveredAt: undefined }],
      [shortLived, slow, 99_000, { status: "EXPIRED", sentAt: undefined, deliveredAt: undefined }],
      // Sent before its expireTime: it is delivered, whatever comes later.
      [shortLived, delivery, 99_000, { status: "DELIVERED", sentAt: 11_000, deliveredAt: 13_000 }]
    ]
    for (const [c, d, now, expected] of cases) {
      assert.deepStrictEqual(AppStore.commandProgress(c, now, d), expected, `expireTime ${c.expireTime} at ${now}`)
    }
  })

  it("subscriptions: the same notifyType and callbackUrl answer the existing one; delete one or by filter", () => {
    const state = applied(
      AppStore.initialState,
      (s) => AppStore.addSubscription(s, "app", subscription("s1", "deviceDataChanged")),
      (s) => AppStore.addSubscription(s, "app", subscription("s2", "commandRsp")),
      (s) => AppStore.addSubscription(s, "app", subscription("s3", "deviceDataChanged", "https://na.example/other"))
    )
    const [again, unchanged] = AppStore.addSubscription(state, "app", subscription("s4", "deviceDataChanged"))
    assert.deepStrictEqual(Result.getOrThrow(again).subscriptionId, "s1")
    assert.strictEqual(unchanged, state)
    assert.deepStrictEqual(
      AppStore.matchingSubscriptions(state, "app", { notifyType: "deviceDataChanged" }).map((s) => s.subscriptionId),
      ["s1", "s3"]
    )
    assert.strictEqual(codeOf(AppStore.findSubscription(state, "other", "s1")), "100225")
    assert.strictEqual(codeOf(AppStore.removeSubscription(state, "app", "nope")[0]), "100225")
    const [one, afterOne] = AppStore.removeSubscription(state, "app", "s2")
    assert.strictEqual(codeOf(one), "ok")
    assert.deepStrictEqual(AppStore.subscriptionsOf(afterOne, "app").map((s) => s.subscriptionId), ["s1", "s3"])
    const [count, afterBatch] = AppStore.removeSubscriptions(state, "app", { notifyType: "deviceDataChanged" })
    assert.strictEqual(Result.getOrThrow(count), 2)
    assert.deepStrictEqual(AppStore.subscriptionsOf(afterBatch, "app").map((s) => s.subscriptionId), ["s2"])
    const [all] = AppStore.removeSubscriptions(state, "app", {})
    assert.strictEqual(Result.getOrThrow(all), 3)
  })

  it("the platform's time format: yyyyMMdd'T'HHmmss'Z', read back exactly or refused", () => {
    assert.strictEqual(formatWireTime(0), "19700101T000000Z")
    assert.strictEqual(formatWireTime(Date.UTC(2018, 4, 16, 10, 43, 12, 999)), "20180516T104312Z")
    assert.strictEqual(parseWireTime("20180516T104312Z"), Date.UTC(2018, 4, 16, 10, 43, 12))
    for (const text of ["20180231T000000Z", "2018-05-16T10:43:12Z", "20180516T104312", "20180516T246000Z", ""]) {
      assert.isUndefined(parseWireTime(text), text)
    }
  })
})

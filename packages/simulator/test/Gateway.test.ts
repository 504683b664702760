/**
 * Authentication before routing, over the wire with Node's own `https`: every business path, known
 * or not, checks the app key and the token and counts against flow control before it is routed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }
const otherApp = { appId: "other-app", secret: "other-secret" }

const platformError = (code: string, desc: string) => ({ error_code: code, error_desc: desc })
const missingAppKey = { status: 401, body: platformError("100025", "AppId for auth not exist.") }
const invalidToken = { status: 403, body: platformError("1010005", "Invalid access token or appId.") }
const throttled = { status: 403, body: platformError("1010004", "app throttle exceed.") }

interface Probe {
  readonly method: string
  readonly path: string
  readonly body?: unknown
  /** The status a good call gets. */
  readonly ok: number
}

/** One call of each business route; the deletions last, since they change what the others find. */
const probes = (deviceId: string, subscriptionId: string): ReadonlyArray<Probe> => [
  { method: "GET", path: "/iocm/app/dm/v1.1.0/devices?pageNo=0&pageSize=10", ok: 200 },
  { method: "GET", path: "/iocm/app/dm/v1.3.0/devices", ok: 200 },
  { method: "GET", path: "/iocm/app/dm/v1.4.0/devices?pageNo=0&pageSize=10&appId=iocm-demo-app", ok: 200 },
  { method: "GET", path: W.devicePath(deviceId), ok: 200 },
  { method: "POST", path: `${W.registrationPath}?appId=${demo.appId}`, body: { nodeId: "gateway-probe" }, ok: 200 },
  {
    method: "POST",
    path: W.commandsPath,
    body: { deviceId, command: { serviceId: "Light", method: "SWITCH", paras: { on: true } } },
    ok: 201
  },
  { method: "GET", path: `${W.commandsPath}?pageNo=0&pageSize=10`, ok: 200 },
  {
    method: "POST",
    path: W.subscriptionsPath,
    body: { notifyType: "deviceAdded", callbackUrl: "https://na.example/added" },
    ok: 201
  },
  { method: "GET", path: `${W.subscriptionsPath}?notifyType=deviceDataChanged`, ok: 200 },
  { method: "GET", path: `${W.subscriptionsPath}/${subscriptionId}`, ok: 200 },
  { method: "DELETE", path: `${W.subscriptionsPath}/${subscriptionId}`, ok: 204 },
  { method: "DELETE", path: `${W.subscriptionsPath}?notifyType=deviceAdded`, ok: 204 },
  { method: "DELETE", path: `${W.devicePath(deviceId, "v1.1.0")}?cascade=true`, ok: 204 }
]

/** A simulator with a device and a subscription of the demo app, and the demo app's credentials. */
const setUp = (options: Simulator.SimulatorOptions = {}) =>
  Effect.gen(function*() {
    const s = yield* Simulator.make({ apps: [otherApp], ...options })
    const deviceId = yield* s.seedDevice({ nodeId: "lamp-1" })
    const good = yield* W.session(s, demo)
    const subscribed = yield* W.call(s, good, {
      path: W.subscriptionsPath,
      body: { notifyType: "deviceDataChanged", callbackUrl: "https://na.example/data" }
    })
    const { subscriptionId } = W.json(subscribed) as { subscriptionId: string }
    return { s, deviceId, subscriptionId, good }
  })

describe("authentication before routing", () => {
  it.live("every business route: 401/100025 without app_key, 403/1010005 on a bad token, its answer to a good one", () =>
    Effect.gen(function*() {
      const { deviceId, good, s, subscriptionId } = yield* setUp()
      const theirs = yield* W.session(s, otherApp)
      const bad: ReadonlyArray<readonly [string, W.Credentials, unknown]> = [
        ["no app_key", { token: good.token }, missingAppKey],
        ["no app_key, no token", {}, missingAppKey],
        ["empty app_key", { appKey: "", token: good.token }, missingAppKey],
        ["no token", { appKey: demo.appId }, invalidToken],
        ["another scheme", { appKey: demo.appId, token: good.token, scheme: "Basic" }, invalidToken],
        ["a wrong token", { appKey: demo.appId, token: "0".repeat(32) }, invalidToken],
        ["another app's token", { appKey: demo.appId, token: theirs.token }, invalidToken],
        ["another app's app_key", { appKey: otherApp.appId, token: good.token }, invalidToken],
        ["an unknown app_key", { appKey: "nobody", token: good.token }, invalidToken]
      ]
      for (const probe of probes(deviceId, subscriptionId)) {
        for (const [name, credentials, expected] of bad) {
          const answer = yield* W.call(s, credentials, probe)
          assert.deepStrictEqual(W.errorOf(answer), expected, `${probe.method} ${probe.path}: ${name}`)
        }
      }
      // Nothing was created, deleted or sent by the refused calls.
      assert.deepStrictEqual((yield* s.commands()).length, 0)
      assert.deepStrictEqual((yield* s.subscriptions()).length, 1)
      for (const probe of probes(deviceId, subscriptionId)) {
        const answer = yield* W.call(s, good, probe)
        assert.strictEqual(answer.status, probe.ok, `${probe.method} ${probe.path}: ${answer.text}`)
      }
    }))

  it.live("an unknown business path: 401/100025, 403/1010005, and 404 only to a good call; another method 405", () =>
    Effect.gen(function*() {
      const { good, s } = yield* setUp()
      const unknown = [
        "/iocm/app/data/v1.1.0/deviceDataHistory",
        "/iocm/app/dm/v1.2.0/devices",
        "/iocm/app/dm/v1.4.0/devices/",
        "/iocm/app/DM/v1.4.0/devices",
        "/iocm/app//dm/v1.4.0/devices",
        "/iocm/app/cmd/v1.4.0/deviceCommands/abc/extra",
        "/iocm/app/",
        "/iodm/app/sub/v1.1.0/subscribe"
      ]
      for (const path of unknown) {
        assert.deepStrictEqual(W.errorOf(yield* W.call(s, { token: good.token }, { path })), missingAppKey, path)
        assert.deepStrictEqual(W.errorOf(yield* W.call(s, { appKey: demo.appId }, { path })), invalidToken, path)
        assert.deepStrictEqual(
          W.errorOf(yield* W.call(s, good, { path })),
          { status: 404, body: platformError("404", "Resource not found.") },
          path
        )
      }
      // A known path with another method: authenticated first too, then 405 naming the methods.
      const put = { method: "PUT", path: W.commandsPath, body: {} }
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, { appKey: demo.appId }, put)), invalidToken)
      const wrong = yield* W.call(s, good, put)
      assert.strictEqual(wrong.status, 405)
      assert.strictEqual(wrong.headers["allow"], "POST, GET")
      assert.strictEqual((W.json(wrong) as { error_code: string }).error_code, "405")
      // HEAD takes the GET route.
      const head = yield* W.call(s, good, { method: "HEAD", path: W.devicesPath })
      assert.strictEqual(head.status, 200)
      assert.strictEqual(head.text, "")
    }))

  it.live("the security API is not behind it: an unknown path under /iocm/app/sec/ is 404 without credentials", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make()
      for (const path of ["/iocm/app/sec/v1.1.0/logout", "/iocm/app/sec/v1.1.0/login/", "/iocm/app/sec/"]) {
        assert.strictEqual((yield* W.send(s, { method: "POST", path })).status, 404, path)
      }
      assert.strictEqual((yield* W.send(s, { path: W.loginPath })).status, 405)
    }))

  it.live("every authenticated call counts against the app's flow control, unknown paths too; refused ones do not", () =>
    Effect.gen(function*() {
      const { deviceId, s } = yield* setUp({ rateLimit: { limit: 4, window: "1 minute" } })
      // setUp spent one call (the subscription); three more, on three endpoints and an unknown path.
      const good = yield* W.session(s, demo)
      yield* W.call(s, { appKey: demo.appId, token: "0".repeat(32) }, { path: W.commandsPath })
      assert.strictEqual((yield* W.call(s, good, { path: W.devicePath(deviceId) })).status, 200)
      assert.strictEqual((yield* W.call(s, good, { path: "/iocm/app/nothing" })).status, 404)
      assert.strictEqual((yield* W.call(s, good, { path: W.commandsPath })).status, 200)
      for (const path of [W.subscriptionsPath, "/iocm/app/nothing", W.devicesPath]) {
        assert.deepStrictEqual(W.errorOf(yield* W.call(s, good, { path })), throttled, path)
      }
      // The other app has its own budget.
      const theirs = yield* W.session(s, otherApp)
      assert.strictEqual((yield* W.call(s, theirs, { path: W.devicesPath })).status, 200)
      const counters = yield* s.counters
      assert.deepStrictEqual(counters.requests.commands, { "1010005": 1, ok: 1 })
      assert.deepStrictEqual(counters.requests.other, { "404": 1, "1010004": 1 })
      assert.deepStrictEqual(counters.requests.devices, { ok: 2, "1010004": 1 })
      assert.deepStrictEqual(counters.requests.subscriptions, { ok: 1, "1010004": 1 })
      assert.strictEqual(counters.businessCalls, 4)
    }))

  it.live("an appId query parameter naming another app: 403/100217 after authentication", () =>
    Effect.gen(function*() {
      const { good, s } = yield* setUp()
      assert.strictEqual((yield* W.call(s, good, { path: `${W.devicesPath}?appId=${demo.appId}` })).status, 200)
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, good, { path: `${W.devicesPath}?appId=${otherApp.appId}` })), {
        status: 403,
        body: platformError("100217", "The application hasn't been authorized.")
      })
      // The token is checked first.
      const bad = yield* W.call(s, { appKey: demo.appId }, { path: `${W.commandsPath}?appId=${otherApp.appId}` })
      assert.deepStrictEqual(W.errorOf(bad), invalidToken)
    }))

  it.live("a custom app-key header and resultcode/resultmsg keys apply to every business path", () =>
    Effect.gen(function*() {
      const s = yield* Simulator.make({ appKeyHeader: "x-app-key", businessErrorKeys: "resultcode" })
      const { token } = yield* W.session(s, demo)
      const headers = { "x-app-key": demo.appId, authorization: `Bearer ${token}` }
      for (const path of [W.commandsPath, W.subscriptionsPath, "/iocm/app/dm/v1.1.0/devices", "/iocm/app/nothing"]) {
        const missing = yield* W.call(s, { appKey: demo.appId, token }, { path })
        assert.deepStrictEqual(
          W.errorOf(missing),
          { status: 401, body: { resultcode: "100025", resultmsg: "AppId for auth not exist." } },
          path
        )
        const refused = yield* W.send(s, { path, headers: { ...headers, authorization: "Bearer nope" } })
        assert.deepStrictEqual(W.errorOf(refused), {
          status: 403,
          body: { resultcode: "1010005", resultmsg: "Invalid access token or appId." }
        })
        assert.oneOf((yield* W.send(s, { path, headers })).status, [200, 404], path)
      }
      const notFound = yield* W.send(s, { path: W.devicePath("nope"), headers })
      assert.deepStrictEqual(W.errorOf(notFound), {
        status: 404,
        body: { resultcode: "100403", resultmsg: "The device is not existed." }
      })
    }))

  it.live("faults on a business endpoint come first, before authentication, and only on that endpoint", () =>
    Effect.gen(function*() {
      const { deviceId, good, s } = yield* setUp()
      yield* s.setFaults("commands", { html: 1, times: 2 })
      assert.strictEqual((yield* W.call(s, {}, { path: W.commandsPath })).status, 502)
      assert.strictEqual((yield* W.call(s, good, { path: W.commandsPath })).status, 502)
      assert.strictEqual((yield* W.call(s, good, { path: W.commandsPath })).status, 200)
      yield* s.setFaults("all", { errorRate: 1 })
      for (const path of [W.devicePath(deviceId), W.subscriptionsPath, `${W.commandsPath}?deviceId=${deviceId}`]) {
        assert.deepStrictEqual(
          W.errorOf(yield* W.call(s, {}, { path })),
          { status: 500, body: platformError("50252", "Internal server error.") },
          path
        )
      }
      // A method no route of the path takes is no endpoint's call (so gets no fault): GET on registration.
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, {}, { path: W.registrationPath })), missingAppKey)
      // No endpoint owns an unknown path: no fault, authentication as usual.
      assert.deepStrictEqual(W.errorOf(yield* W.call(s, {}, { path: "/iocm/app/nothing" })), missingAppKey)
      yield* s.clearFaults
      yield* s.setFaults("registration", { truncate: 1 })
      const truncated = yield* W.call(s, good, { path: W.registrationPath, body: { nodeId: "x" } })
      assert.strictEqual(truncated.status, 200)
      assert.throws(() => JSON.parse(truncated.text))
      assert.deepStrictEqual((yield* s.counters).requests.registration, { truncate: 1 })
    }))
})

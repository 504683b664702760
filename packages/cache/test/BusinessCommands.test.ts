/**
 * `TokenService.authenticated` on the simulator's device-command API, over HTTPS with mutual TLS
 * on the real clock: a command sent with a token the platform revoked mid-run is replayed once,
 * with a fresh token, and succeeds; the refused attempt leaves no command behind.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import { Effect } from "effect"
import { HttpClientRequest } from "effect/http"
import { client, stack } from "./utils/SimulatorStack.js"

const commandsPath = "/iocm/app/cmd/v1.4.0/deviceCommands"

interface CommandBody {
  readonly commandId: string
  readonly deviceId: string
  readonly status: string
}

/** A command to `deviceId`, as an NA sends it. */
const switchOn = (deviceId: string) =>
  HttpClientRequest.post(commandsPath).pipe(
    HttpClientRequest.bodyJsonUnsafe({
      deviceId,
      command: { serviceId: "Light", method: "SWITCH", paras: { on: true } },
      callbackUrl: "https://na.example/commands",
      expireTime: 600
    })
  )

describe("device commands through TokenService.authenticated", () => {
  it.live("a command sent with a token revoked mid-run is replayed once with a fresh token and succeeds", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const api = yield* client
      const deviceId = yield* sim.seedDevice({ nodeId: "lamp-1", deviceType: "Lamp" })

      const first = yield* api.execute(switchOn(deviceId))
      assert.strictEqual(first.status, 201)
      const sent = (yield* first.json) as unknown as CommandBody
      assert.strictEqual(sent.deviceId, deviceId)
      assert.strictEqual(sent.status, "PENDING")

      // The platform drops the app's tokens (as if it logged in elsewhere): the next command is
      // refused with 1010005, the refresh token with 100006, so one login, then one replay.
      yield* sim.revokeTokens(sim.app.appId)
      const replayed = yield* api.execute(switchOn(deviceId))
      assert.strictEqual(replayed.status, 201)
      const again = (yield* replayed.json) as unknown as CommandBody
      assert.notStrictEqual(again.commandId, sent.commandId)

      const counters = yield* sim.counters
      assert.deepStrictEqual(counters.requests.commands, { ok: 2, "1010005": 1 })
      assert.strictEqual(counters.logins, 2)
      assert.strictEqual(counters.requests.refresh["100006"], 1)
      // The refused attempt reached no device: two commands, the ones answered.
      const commands = yield* sim.commands(sim.app.appId)
      assert.deepStrictEqual(commands.map((c) => c.commandId), [sent.commandId, again.commandId])
      assert.isTrue(commands.every((c) => c.deviceId === deviceId && c.callbackUrl === "https://na.example/commands"))

      // And the NA reads them back through the same client.
      const listed = yield* api.get(commandsPath, { urlParams: { deviceId, pageNo: 0, pageSize: 10 } })
      assert.strictEqual(listed.status, 200)
      const page = (yield* listed.json) as unknown as {
        pagination: { totalSize: number }
        data: ReadonlyArray<CommandBody>
      }
      assert.strictEqual(page.pagination.totalSize, 2)
      assert.deepStrictEqual(page.data.map((c) => c.commandId), [sent.commandId, again.commandId])
    }).pipe(Effect.provide(stack({}))))

  it.live("a command to a device the app does not have is the platform's 404/100418, not replayed", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      const api = yield* client
      const refused = yield* api.execute(switchOn("no-such-device"))
      assert.strictEqual(refused.status, 404)
      assert.deepStrictEqual(yield* refused.json, {
        error_code: "100418",
        error_desc: "The deviceData is not existed."
      })
      const counters = yield* sim.counters
      assert.deepStrictEqual(counters.requests.commands, { "100418": 1 })
      assert.strictEqual(counters.logins, 1)
    }).pipe(Effect.provide(stack({}))))
})

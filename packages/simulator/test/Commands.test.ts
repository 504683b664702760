/**
 * Device commands moving on with the simulator's clock, over the wire, under TestClock: the
 * server reads time from the `Clock` it was built with, so moving the TestClock moves commands
 * from PENDING to SENT to DELIVERED without sleeping.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Effect } from "effect"
import * as TestClock from "effect/testing/TestClock"
import * as Simulator from "../src/Simulator.js"
import * as W from "./utils/wire.js"

const demo = { appId: Simulator.demoApp.appId, secret: Simulator.demoApp.secret }

interface CommandBody {
  readonly commandId: string
  readonly status: string
  readonly creationTime: string
  readonly platformIssuedTime: string | null
  readonly deliveredTime: string | null
  readonly issuedTimes: number
}

/** A simulator with one device, a command sent to it, and a way to read that command back over the wire. */
const sentCommand = (options: Simulator.SimulatorOptions, extra: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const s = yield* Simulator.make(options)
    const deviceId = yield* s.seedDevice({ nodeId: "lamp-1" })
    const credentials = yield* W.session(s, demo)
    const created = yield* W.call(s, credentials, {
      path: W.commandsPath,
      body: { deviceId, command: { serviceId: "Light", method: "SWITCH", paras: { on: true } }, ...extra }
    })
    assert.strictEqual(created.status, 201)
    const current = Effect.map(W.call(s, credentials, { path: `${W.commandsPath}?deviceId=${deviceId}` }), (r) => {
      const page = W.json(r) as { data: ReadonlyArray<CommandBody> }
      return page.data[0]!
    })
    return { s, created: W.json(created) as CommandBody, current }
  })

describe("device commands under TestClock", () => {
  it.effect("PENDING, SENT after 1 second, DELIVERED a second later, with the times the platform reports", () =>
    Effect.gen(function*() {
      const { created, current, s } = yield* sentCommand({})
      assert.deepInclude(created, {
        status: "PENDING",
        creationTime: "19700101T000000Z",
        platformIssuedTime: null,
        deliveredTime: null,
        issuedTimes: 0
      })
      yield* TestClock.adjust("999 millis")
      assert.strictEqual((yield* current).status, "PENDING")
      yield* TestClock.adjust("1 millis")
      assert.deepInclude(yield* current, {
        status: "SENT",
        platformIssuedTime: "19700101T000001Z",
        deliveredTime: null,
        issuedTimes: 1
      })
      yield* TestClock.adjust("1 second")
      assert.deepInclude(yield* current, {
        status: "DELIVERED",
        platformIssuedTime: "19700101T000001Z",
        deliveredTime: "19700101T000002Z",
        issuedTimes: 1
      })
      const [snapshot] = yield* s.commands()
      assert.deepInclude(snapshot, { status: "DELIVERED", createdAt: 0, sentAt: 1_000, deliveredAt: 2_000 })
    }))

  it.effect("commandDelivery sets the pace; an expireTime that passes before the command is sent: EXPIRED", () =>
    Effect.gen(function*() {
      const { current } = yield* sentCommand(
        { commandDelivery: { sendAfter: "1 minute", deliverAfter: "30 seconds" } },
        { expireTime: 30 }
      )
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual((yield* current).status, "PENDING")
      yield* TestClock.adjust("1 second")
      assert.deepInclude(yield* current, { status: "EXPIRED", platformIssuedTime: null, issuedTimes: 0 })
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual((yield* current).status, "EXPIRED")
    }))

  it.effect("expireTime 0 is sent at once; a zero delivery time delivers at once", () =>
    Effect.gen(function*() {
      const immediate = yield* sentCommand({}, { expireTime: 0 })
      assert.deepInclude(immediate.created, { status: "SENT", platformIssuedTime: "19700101T000000Z" })
      const instant = yield* sentCommand({ commandDelivery: { sendAfter: 0, deliverAfter: "0 millis" } })
      assert.deepInclude(instant.created, { status: "DELIVERED", deliveredTime: "19700101T000000Z" })
    }))

  it.effect("an invalid commandDelivery fails with SimulatorError Options", () =>
    Effect.gen(function*() {
      const invalid: ReadonlyArray<Simulator.SimulatorOptions["commandDelivery"]> = [
        { sendAfter: "soon" as Duration.Input },
        { deliverAfter: "1 eon" as Duration.Input },
        { sendAfter: Infinity }
      ]
      for (const commandDelivery of invalid) {
        const error = yield* Effect.flip(Simulator.make({ commandDelivery }))
        assert.strictEqual(error.reason, "Options", JSON.stringify(commandDelivery))
      }
    }))
})

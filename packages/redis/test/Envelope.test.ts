import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { randomBytes } from "node:crypto"
import * as Envelope from "../src/internal/envelope.js"
import * as Lease from "../src/internal/lease.js"

describe("the sealed record", () => {
  const master = randomBytes(32)
  const codec: Envelope.Codec = { _tag: "Sealed", current: Envelope.deriveKey(master, "app"), previous: [] }
  const aad = Envelope.associatedData("app", 1)

  it("reads a 32-byte key as hex or base64 (standard or url-safe), nothing else", () => {
    for (const text of [master.toString("hex"), master.toString("base64"), master.toString("base64url")]) {
      assert.deepStrictEqual(Envelope.parseKey(text), master)
    }
    for (const text of ["", "short", randomBytes(31).toString("base64"), randomBytes(33).toString("hex")]) {
      assert.isUndefined(Envelope.parseKey(text))
    }
  })

  it("opens what it sealed, with a fresh IV each time; not under other associated data", () => {
    const first = Envelope.seal(codec, "{}", aad, randomBytes(Envelope.ivLength))
    const second = Envelope.seal(codec, "{}", aad, randomBytes(Envelope.ivLength))
    assert.notStrictEqual(first, second)
    assert.deepStrictEqual(Envelope.open(codec, first, aad), Result.succeed("{}"))
    assert.isTrue(Result.isFailure(Envelope.open(codec, first, Envelope.associatedData("app", 2))))
    assert.isTrue(Result.isFailure(Envelope.open(codec, first, Envelope.associatedData("other", 1))))
  })
})

describe("Lease.pollDelay", () => {
  it("doubles from 10 ms to 250 ms, never past the holder's expiry", () => {
    const table: ReadonlyArray<readonly [attempt: number, leftMillis: number, delay: number]> = [
      [0, 5000, 10],
      [3, 5000, 80],
      [10, 5000, 250],
      [10, 40, 40],
      [0, 0, 1],
      [10, -1, 250]
    ]
    for (const [attempt, leftMillis, delay] of table) assert.strictEqual(Lease.pollDelay(attempt, leftMillis), delay)
  })
})

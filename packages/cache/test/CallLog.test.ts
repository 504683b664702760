/** The sliding log of a budget's calls (`internal/callLog.ts`): a pure table. */
import { assert, describe, it } from "@effect/vitest"
import * as CallLog from "../src/internal/callLog.js"

describe("CallLog.take", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly log: CallLog.Log
    readonly now: number
    readonly decision: number
    readonly after: CallLog.Log
  }> = [
    { name: "an empty window grants", log: [], now: 5, decision: 0, after: [5] },
    { name: "room left grants", log: [1], now: 5, decision: 0, after: [1, 5] },
    { name: "a full window answers when its oldest call leaves it", log: [1, 4], now: 5, decision: 6, after: [1, 4] },
    {
      name: "calls that left the window are dropped, then it grants",
      log: [1, 4],
      now: 11,
      decision: 0,
      after: [4, 11]
    },
    { name: "a call exactly one window old has left it", log: [1, 4], now: 11, decision: 0, after: [4, 11] },
    { name: "the wait is at least 1 ms", log: [0, 0], now: 9.5, decision: 1, after: [0, 0] }
  ]
  for (const { after, decision, log, name, now } of cases) {
    it(name, () => {
      assert.deepStrictEqual(CallLog.take(log, now, 2, 10), [decision, after])
    })
  }
})

import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runExample } from "./runExample.js"

const summaryLine = /^(\d+) of (\d+) business calls succeeded/m

// The two programs are independent (each runs its own embedded simulator): run them side by side.
describe.concurrent("the demo programs", () => {
  describe("pnpm demo", () => {
    it.live(
      "tours IocmAuth and TokenService against the embedded simulator and ends by itself",
      () =>
        Effect.gen(function*() {
          const run = yield* runExample("demo")
          assert.strictEqual(run.status, 0, run.stderr)
          assert.include(run.stdout, "GET devices with the new token -> 200")
          assert.include(run.stdout, "GET devices with the old token -> 403")
          assert.include(run.stdout, "1010005")
          assert.include(run.stdout, "refresh with the used refresh token -> RefreshTokenRejected (100006)")
          assert.match(run.stdout, /token {2}refreshed \(proactive\)/)
          const [, succeeded, calls] = summaryLine.exec(run.stdout) ?? []
          assert.isAtLeast(Number(calls), 18)
          assert.strictEqual(succeeded, calls)
          assert.notMatch(run.stdout, /[0-9a-f]{20,}/, "no token is printed")
        }),
      60_000
    )
  })

  describe("pnpm example token-service", () => {
    it.live("keeps every business call authenticated across several token lifetimes", () =>
      Effect.gen(function*() {
        const run = yield* runExample("token-service", {
          IOCM_DEMO_DURATION: "7 seconds",
          IOCM_DEMO_TOKEN_LIFETIME: "3 seconds",
          IOCM_REFRESH_LEAD: "1 second",
          IOCM_REFRESH_JITTER: "200 millis",
          IOCM_FORCED_WINDOW: "500 millis"
        })
        assert.strictEqual(run.status, 0, run.stderr)
        assert.match(run.stdout, /token {2}logged in \(cold\)/)
        assert.isAtLeast(run.stdout.match(/token {2}refreshed/g)?.length ?? 0, 2)
        const [, succeeded, calls] = summaryLine.exec(run.stdout) ?? []
        assert.isAtLeast(Number(calls), 7)
        assert.strictEqual(succeeded, calls)
      }), 60_000)
  })
})

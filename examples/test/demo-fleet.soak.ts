/**
 * `pnpm demo:fleet`, run as a user would: four worker processes on a private redis-server. In the
 * soak rather than beside the whole suite: its every-call-served check is about the fleet, and four
 * processes refreshing 5-second tokens on a machine the suite loads can see a replayed call refused
 * again by a refresh that came between.
 */
import { assert, describe, it } from "@effect/vitest"
import * as RedisServer from "@iocm/testing/Redis"
import { Effect } from "effect"
import { runExample } from "./runExample.js"

describe.runIf(RedisServer.serverAvailable())("pnpm demo:fleet", () => {
  it.live(
    "four workers on a private redis-server: one login, one refresh per token lifetime, every call served",
    () =>
      Effect.gen(function*() {
        const run = yield* runExample("demo:fleet", { IOCM_DEMO_DURATION: "5 seconds" })
        assert.strictEqual(run.status, 0, `${run.stderr}${run.stdout.slice(-3000)}`)
        const [, logins, refreshes, distinct] = /simulator: (\d+) login\(s\), (\d+) refresh\(es\), (\d+) distinct/.exec(
          run.stdout
        ) ?? []
        assert.strictEqual(logins, "1")
        // Every token request made one token; one replaced before any worker's next call goes unseen.
        assert.isAtLeast(Number(distinct), 1)
        assert.isAtMost(Number(distinct), 1 + Number(refreshes))
        // 5-second tokens are refreshed 1.25–2.5 s after issue: one flight for the fleet makes at most
        // 4 refreshes in 5 s — 8 while the four workers' 5 s are spread over up to 10 s on a loaded
        // machine (each starts its clock when it has booted) — where four flights would make ~16.
        assert.isAtMost(Number(refreshes), 8)
        assert.strictEqual(run.stdout.match(/\[worker \d\] (\d+) of \1 business calls succeeded/g)?.length, 4)
        assert.notMatch(run.stdout, /[0-9a-f]{20,}/, "no token is printed")
      }),
    120_000
  )
})

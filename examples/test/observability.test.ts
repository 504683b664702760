/**
 * `pnpm example observability`, run as a user would: its spans and metrics read back from the
 * console, from an OTLP collector of the test's own, and from its Prometheus endpoint.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Loopback from "@iocm/testing/Loopback"
import { Effect, Fiber } from "effect"
import { createServer } from "node:http"
import { runExample } from "./runExample.js"

/** A span line of the console tracer, parsed. */
interface SpanLine {
  readonly name: string
  readonly span: string
  readonly parent: string
  readonly links: ReadonlyArray<string>
  readonly attributes: Record<string, unknown>
}

const spanLine = /^span (.+?) [\d.]+ ms trace=\S+ span=(\S+) parent=(\S+)(?: links=(\S+))? (\{.*\})$/

const spansOf = (stdout: string): ReadonlyArray<SpanLine> =>
  stdout.split("\n").flatMap((line) => {
    const match = spanLine.exec(line)
    return match === null ? [] : [{
      name: match[1]!,
      span: match[2]!,
      parent: match[3]!,
      links: match[4]?.split(",") ?? [],
      attributes: JSON.parse(match[5]!) as Record<string, unknown>
    }]
  })

/** An OTLP/HTTP collector on a free loopback port: what was POSTed to each path, parsed. */
const collector = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly received: Map<string, Array<unknown>>; close: () => void }>(
    (resume) => {
      const received = new Map<string, Array<unknown>>()
      const server = createServer((request, response) => {
        let body = ""
        request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
        request.on("end", () => {
          received.set(request.url ?? "", [...(received.get(request.url ?? "") ?? []), JSON.parse(body)])
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, received, close: () => server.close() }))
      })
    }
  ),
  (collector) => Effect.sync(() => collector.close())
)

describe.concurrent("pnpm example observability", () => {
  it.live("console: a flight links to the call that needed it, the replay is a child of its call, the metrics read true", () =>
    Effect.gen(function*() {
      const run = yield* runExample("observability", { IOCM_DEMO_DURATION: "5 seconds" })
      assert.strictEqual(run.status, 0, run.stderr)
      const spans = spansOf(run.stdout)
      const byId = new Map(spans.map((span) => [span.span, span]))
      const cold = spans.find((span) => span.name === "iocm.token.flight" && span.attributes.reason === "cold")
      assert.isDefined(cold, run.stdout)
      assert.strictEqual(cold!.parent, "root")
      assert.strictEqual(byId.get(cold!.links[0]!)?.name, "list devices", "linked to the first call")
      const login = spans.find((span) => span.name === "iocm.token.login" && span.attributes.reason === "cold")
      assert.strictEqual(login?.parent, cold!.span)
      const replay = spans.find((span) => span.name === "iocm.token.replay")
      assert.isDefined(replay, "the revoked token's call is replayed")
      assert.strictEqual(replay!.attributes.code, "1010005")
      assert.strictEqual(byId.get(replay!.parent)?.name, "list devices", "the replay is a child of its call")
      for (const span of spans) {
        const authorization = span.attributes["http.request.header.authorization"]
        assert.isTrue(authorization === undefined || authorization === "<redacted>")
      }
      const expiry = /^iocm_token_expiry_timestamp_seconds ([\d.]+)$/m.exec(run.stdout)
      assert.isNotNull(expiry, run.stdout)
      const seconds = Number(expiry![1]) - Date.now() / 1000
      assert.isTrue(seconds > -1 && seconds <= 5, `the token expires ${seconds} s from now`)
      assert.match(run.stdout, /^iocm_token_login_total\{outcome="success",reason="cold"\} 1$/m)
      assert.match(
        run.stdout,
        /^(\d+) of \1 business calls succeeded$/m,
        "every call succeeded, the refused one replayed"
      )
    }))

  it.live("OTEL_EXPORTER_OTLP_ENDPOINT: spans and metrics are exported over OTLP/HTTP", () =>
    Effect.gen(function*() {
      const { received, url } = yield* collector
      const run = yield* runExample("observability", {
        IOCM_DEMO_DURATION: "3 seconds",
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_SERVICE_NAME: "observability-test"
      })
      assert.strictEqual(run.status, 0, run.stderr)
      assert.notMatch(run.stdout, /^span /m, "nothing printed when exported")
      const traces = JSON.stringify(received.get("/v1/traces") ?? [])
      assert.include(traces, "iocm.token.flight")
      assert.include(traces, "list devices")
      assert.include(traces, "observability-test")
      assert.match(traces, /"links":\[\{"traceId"/, "the flight's link is exported")
      assert.include(JSON.stringify(received.get("/v1/metrics") ?? []), "iocm_token_expiry_timestamp_seconds")
    }))

  it.live("IOCM_METRICS_PORT: the metrics are served in Prometheus' text format while it runs", () =>
    Effect.gen(function*() {
      const port = yield* Loopback.closedPort
      const running = yield* Effect.forkChild(
        runExample("observability", { IOCM_DEMO_DURATION: "8 seconds", IOCM_METRICS_PORT: String(port) })
      )
      let scraped = ""
      for (let attempt = 0; attempt < 300 && !scraped.includes("iocm_token_login_total"); attempt++) {
        yield* Effect.sleep("100 millis")
        scraped = yield* Effect.promise(() =>
          fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text(), () => "")
        )
      }
      assert.match(scraped, /^# TYPE iocm_token_expiry_timestamp_seconds gauge$/m)
      assert.match(scraped, /^iocm_token_login_total\{outcome="success",reason="cold"\} 1$/m)
      assert.strictEqual((yield* Fiber.join(running)).status, 0)
    }))
})

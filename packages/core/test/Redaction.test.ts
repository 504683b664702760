import { assert, describe, it } from "@effect/vitest"
import * as Loopback from "@iocm/testing/Loopback"
import * as TestServer from "@iocm/testing/TestServer"
import { Cause, Effect, Exit, Logger, Option, Redacted, Tracer } from "effect"
import type { Scope } from "effect"
import { inspect } from "node:util"
import { maskSecrets } from "../src/internal/mask.js"
import * as IocmAuth from "../src/IocmAuth.js"
import * as IocmError from "../src/IocmError.js"
import { authLayer, capturedSuccess, containsNoSecret, refreshToken, secret } from "./utils/fixtures.js"

/** Runs `effect` with every log line captured in logfmt and JSON. */
const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make<unknown, void>((options) => {
      lines.push(Logger.formatLogFmt.log(options), Logger.formatJson.log(options))
    })
    yield* effect.pipe(
      Effect.provide(Logger.layer([capture])),
      Effect.exit
    )
    return lines
  })

/** Runs `effect` with a tracer that records every span. */
const captureSpans = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const base = yield* Effect.tracer
    const spans: Array<Tracer.Span> = []
    const recording = Tracer.make({
      span: (...args) => {
        const span = base.span(...args)
        spans.push(span)
        return span
      },
      context: base.context
    })
    yield* effect.pipe(Effect.withTracer(recording), Effect.exit)
    return spans
  })

/** Every form an exporter may send a span in: its fields as JSON (the exit included), its exit's cause printed, the span inspected. */
const spanForms = (span: Tracer.Span): string => {
  const events = span instanceof Tracer.NativeSpan ? span.events : []
  const fields = { name: span.name, attributes: Object.fromEntries(span.attributes), events, status: span.status }
  const exit = span.status._tag === "Ended" ? span.status.exit : Exit.void
  return [
    JSON.stringify(fields, (_, value) => typeof value === "bigint" ? String(value) : value),
    Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "",
    inspect(span, { depth: 10 })
  ].join("\n")
}

const allRepresentations = (value: unknown): string =>
  [String(value), JSON.stringify(value), inspect(value, { depth: 10 }), (value as { message?: string }).message ?? ""]
    .join("\n")

describe("redaction", () => {
  it.effect("a token set shows no token in String, JSON, inspect or logs", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      const tokens = yield* Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(
        Effect.provide(authLayer(server.url))
      )
      assert.isTrue(containsNoSecret(allRepresentations(tokens)))
      const lines = yield* captureLogs(Effect.log("tokens", tokens))
      assert.isAbove(lines.length, 0)
      assert.isTrue(containsNoSecret(lines.join("\n")))
      assert.include(JSON.stringify(tokens), "<redacted>")
    }))

  it.effect("errors carrying the platform's echo of secrets show none, logged or printed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(500, { error_code: "50252", error_desc: `${secret} ${refreshToken}` })
      )
      const failing = Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.refresh(Redacted.make(refreshToken))).pipe(
        Effect.provide(authLayer(server.url))
      )
      const error = yield* Effect.flip(failing)
      assert.strictEqual(error._tag, "PlatformInternalError")
      assert.isTrue(containsNoSecret(allRepresentations(error)))
      const lines = yield* captureLogs(failing.pipe(Effect.tapCause((cause) => Effect.logError(cause))))
      assert.isTrue(containsNoSecret(lines.join("\n")))
      const exit = yield* Effect.exit(failing)
      assert.isTrue(containsNoSecret(exit._tag === "Failure" ? Cause.pretty(exit.cause) : ""))
    }))

  it.effect("a secret echoed percent-, form- or JSON-encoded is masked too", () =>
    Effect.gen(function*() {
      const odd = "p@ss w&rd/é\"x"
      const spellings = [
        encodeURIComponent(odd),
        encodeURIComponent(odd).toLowerCase(),
        new URLSearchParams({ s: odd }).toString().slice(2),
        JSON.stringify(odd).slice(1, -1),
        JSON.stringify(odd).slice(1, -1).replace("é", "\\u00e9")
      ]
      for (const spelling of spellings) {
        const server = yield* TestServer.make(
          TestServer.json(400, { error_code: "50400", error_desc: `cannot parse value ${spelling}` })
        )
        const error = yield* Effect.flip(
          Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(
            Effect.provide(authLayer(server.url, { secret: odd }))
          )
        )
        assert.strictEqual(error._tag, "InvalidInput")
        assert.strictEqual(error.description, "cannot parse value <masked>", spelling)
      }
    }))

  it.effect("a token the platform echoes in its description is masked, whichever token it is", () =>
    Effect.gen(function*() {
      const foreign = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
      const server = yield* TestServer.make(
        TestServer.json(401, { error_code: "100006", error_desc: `old access token ${foreign} expired` })
      )
      const error = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.refresh(Redacted.make(refreshToken))).pipe(
          Effect.provide(authLayer(server.url))
        )
      )
      assert.strictEqual(error.description, "old access token <masked> expired")
      assert.notInclude(allRepresentations(error), foreign)
      // Words are not tokens: a long word without digits stays.
      server.answer = TestServer.json(500, { error_code: "50252", error_desc: "NullPointerExceptionInHandler" })
      const plain = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(authLayer(server.url)))
      )
      assert.strictEqual(plain.description, "NullPointerExceptionInHandler")
    }))

  it("a secret is masked in every JSON spelling: Gson's \\u003d escapes, upper-case hex, \\/ and the short escapes", () => {
    const odd = "p=s<s>&'w/\u00e4\"\\\b\f\n\r\t\u{1F511}x"
    const spellings = [
      // Gson: = < > & ' as \u003d \u003c \u003e \u0026 \u0027, the rest as JSON.stringify does
      JSON.stringify(odd).slice(1, -1).replace(/[=<>&']/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
      // every UTF-16 code unit escaped, upper-case hex
      Array.from(
        { length: odd.length },
        (_, i) => `\\u${odd.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0")}`
      )
        .join(""),
      // \/ for the slash, upper-case \u00E4, short escapes for the rest
      JSON.stringify(odd).slice(1, -1).replace("/", "\\/").replace("\u00e4", "\\u00E4"),
      // the key as lower-case \uXXXX pairs, the rest as is
      odd.replace("\u{1F511}", "\\ud83d\\udd11")
    ]
    for (const spelling of spellings) {
      assert.strictEqual(maskSecrets(`echo ${spelling} end`, [odd]), "echo <masked> end", spelling)
    }
  })

  it.effect("a secret a Java server echoes with Gson's escapes is masked in the body kept and in the description", () =>
    Effect.gen(function*() {
      const gsonSecret = "S3cr3t=value<9f8e>&'x/\u00e4"
      const gson = JSON.stringify(gsonSecret).slice(1, -1).replace(
        /[=<>&']/g,
        (c) => `\\u00${c.charCodeAt(0).toString(16)}`
      ).replace("/", "\\/").replace("\u00e4", "\\u00E4")
      const server = yield* TestServer.make(
        TestServer.raw(500, `{"message":"cannot use secret ${gson}"}`, "application/json")
      )
      const layer = authLayer(server.url, { secret: gsonSecret })
      const malformed = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(layer))
      )
      assert.strictEqual(malformed._tag, "MalformedResponse")
      if (malformed._tag !== "MalformedResponse") return
      assert.strictEqual(malformed.body, "{\"message\":\"cannot use secret <masked>\"}")
      // a description that carries the escaped form as text (an echo encoded twice)
      server.answer = TestServer.json(400, { error_code: "50400", error_desc: `cannot use secret ${gson}` })
      const invalid = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(layer))
      )
      assert.strictEqual(invalid.description, "cannot use secret <masked>")
      for (const error of [malformed, invalid]) {
        assert.notInclude(allRepresentations(error), "value")
      }
    }))

  it.effect("a token-like error code is masked in the error's code and message; documented codes are kept", () =>
    Effect.gen(function*() {
      const foreign = "9f8e7d6c5b4a39281706f5e4d3c2b1a"
      const server = yield* TestServer.make(TestServer.json(401, { error_code: foreign, error_desc: "x" }))
      const error = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(authLayer(server.url)))
      )
      assert.strictEqual(error._tag, "UnknownPlatformError")
      assert.strictEqual(error.code, "<masked>")
      assert.notInclude(allRepresentations(error), foreign)
      // the known secret as the code, and a documented code that happens to contain a short secret
      server.answer = TestServer.json(401, { error_code: secret, error_desc: "x" })
      const echoed = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(authLayer(server.url)))
      )
      assert.strictEqual(echoed.code, "<masked>")
      server.answer = TestServer.json(401, { error_code: "100208", error_desc: "x" })
      const documented = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(
          Effect.provide(authLayer(server.url, { secret: "0020" }))
        )
      )
      assert.strictEqual(documented._tag, "InvalidCredentials")
      assert.strictEqual(documented.code, "100208")
    }))

  it("masking never throws, even for a secret no encoder accepts (a lone surrogate)", () => {
    const broken = "abc\uD800defghij"
    assert.strictEqual(maskSecrets(`echo ${broken} end`, [broken]), "echo <masked> end")
  })

  it.effect("a very short secret is masked where it stands alone, not inside words", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(
        TestServer.json(400, { error_code: "50400", error_desc: "Headers say s is wrong" })
      )
      const error = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(
          Effect.provide(authLayer(server.url, { secret: "s" }))
        )
      )
      assert.strictEqual(error.description, "Headers say <masked> is wrong")
    }))

  it("a secret of 4 characters or more is masked inside a word too", () => {
    assert.strictEqual(maskSecrets("bad key xk3Y9zq", ["k3Y9z"]), "bad key x<masked>q")
    assert.strictEqual(maskSecrets("bad key xk3Yq", ["k3Y"]), "bad key xk3Yq")
  })

  it.effect("every error class prints without the values it was not given", () =>
    Effect.gen(function*() {
      const errors = [
        new IocmError.AccountFrozen({ code: "100449", httpStatus: 400, description: "d" }),
        new IocmError.TransportError({ code: "Transport", description: "connect ECONNREFUSED" }),
        new IocmError.MalformedResponse({ code: "MalformedResponse", description: "d", body: "", retryable: false })
      ]
      for (const error of errors) {
        assert.isTrue(containsNoSecret(allRepresentations(error)))
        assert.include(error.message, error.code)
      }
    }))

  it.effect("login and refresh run in spans with appId and outcome, and no secret in any attribute", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      const spans = yield* captureSpans(
        Effect.gen(function*() {
          const auth = yield* IocmAuth.IocmAuth
          const tokens = yield* auth.login
          server.answer = TestServer.json(401, { error_code: "100006", error_desc: "Refresh access token failed." })
          yield* Effect.exit(auth.refresh(Option.getOrThrow(tokens.refreshToken)))
        }).pipe(Effect.provide(authLayer(server.url)))
      )
      const login = spans.find((span) => span.name === "iocm.login")
      const refresh = spans.find((span) => span.name === "iocm.refresh")
      assert.isDefined(login)
      assert.isDefined(refresh)
      assert.strictEqual(login!.attributes.get("appId"), "test-app-id")
      assert.strictEqual(login!.attributes.get("outcome"), "success")
      assert.strictEqual(refresh!.attributes.get("outcome"), "RefreshTokenRejected")
      for (const span of spans) {
        assert.isTrue(containsNoSecret(inspect([...span.attributes.entries()], { depth: 5 })))
      }
    }))

  const scenarios: ReadonlyArray<[string, Effect.Effect<{ readonly url: string }, never, Scope.Scope>]> = [
    ["a refused connection", Effect.map(Loopback.closedPort, (port) => ({ url: `https://127.0.0.1:${port}` }))],
    ["a stalled server hitting the timeout", TestServer.make(TestServer.stall)],
    ["a 500", TestServer.make(TestServer.json(500, { error_code: "50252", error_desc: "Internal server error." }))],
    ["a malformed 200", TestServer.make(TestServer.raw(200, "{\"accessToken\":", "application/json"))],
    ["a success", TestServer.make(TestServer.json(200, capturedSuccess))]
  ]
  for (const [name, start] of scenarios) {
    it.live(`${name}: no span, event or error of login or refresh serializes the secret or a token`, () =>
      Effect.gen(function*() {
        const { url } = yield* start
        const layer = authLayer(url, { requestTimeout: "200 millis" })
        const exits: Array<Exit.Exit<unknown, unknown>> = []
        const spans = yield* captureSpans(
          Effect.gen(function*() {
            const auth = yield* IocmAuth.IocmAuth
            exits.push(yield* Effect.exit(auth.login), yield* Effect.exit(auth.refresh(Redacted.make(refreshToken))))
          }).pipe(Effect.provide(layer))
        )
        for (const span of spans) {
          assert.strictEqual(span.status._tag, "Ended")
          assert.isTrue(containsNoSecret(spanForms(span)), span.name)
        }
        // no `http.client` span: ours carry the HTTP attributes
        assert.deepStrictEqual(spans.map((span) => span.name), ["iocm.login", "iocm.refresh"])
        for (const span of spans) {
          assert.strictEqual(span.attributes.get("http.request.method"), "POST")
          assert.match(String(span.attributes.get("url.full")), /^https:\/\/127\.0\.0\.1:\d+\/iocm\/app\/sec\//)
        }
        for (const exit of exits) {
          assert.isTrue(containsNoSecret(Exit.isFailure(exit) ? allRepresentations(Cause.squash(exit.cause)) : ""))
        }
      }))
  }

  it.effect("the spans of login and refresh carry the response's status", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(500, { error_code: "50252", error_desc: "x" }))
      const spans = yield* captureSpans(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.refresh(Redacted.make(refreshToken))).pipe(
          Effect.provide(authLayer(server.url))
        )
      )
      assert.strictEqual(spans[0]!.attributes.get("http.response.status_code"), 500)
      assert.strictEqual(spans[0]!.attributes.get("outcome"), "PlatformInternalError")
    }))
})

import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Logger, Option, Redacted, Tracer } from "effect"
import { inspect } from "node:util"
import { maskSecrets } from "../src/internal/mask.js"
import * as IocmAuth from "../src/IocmAuth.js"
import * as IocmError from "../src/IocmError.js"
import { authLayer, capturedSuccess, containsNoSecret, refreshToken, secret } from "./utils/fixtures.js"
import * as TestServer from "./utils/TestServer.js"

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

const allRepresentations = (value: unknown): string =>
  [String(value), JSON.stringify(value), inspect(value, { depth: 10 }), (value as { message?: string }).message ?? ""]
    .join("\n")

describe("redaction", () => {
  it.effect("a token set shows no token in String, JSON, inspect or logs", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.json(200, capturedSuccess))
      const tokens = yield* Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(
        Effect.provide(authLayer(server.baseUrl))
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
        Effect.provide(authLayer(server.baseUrl))
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
            Effect.provide(authLayer(server.baseUrl, { secret: odd }))
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
          Effect.provide(authLayer(server.baseUrl))
        )
      )
      assert.strictEqual(error.description, "old access token <masked> expired")
      assert.notInclude(allRepresentations(error), foreign)
      // Words are not tokens: a long word without digits stays.
      server.reply = TestServer.json(500, { error_code: "50252", error_desc: "NullPointerExceptionInHandler" })
      const plain = yield* Effect.flip(
        Effect.flatMap(IocmAuth.IocmAuth, (auth) => auth.login).pipe(Effect.provide(authLayer(server.baseUrl)))
      )
      assert.strictEqual(plain.description, "NullPointerExceptionInHandler")
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
          Effect.provide(authLayer(server.baseUrl, { secret: "s" }))
        )
      )
      assert.strictEqual(error.description, "Headers say <masked> is wrong")
    }))

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
          server.reply = TestServer.json(401, { error_code: "100006", error_desc: "Refresh access token failed." })
          yield* Effect.exit(auth.refresh(Option.getOrThrow(tokens.refreshToken)))
        }).pipe(Effect.provide(authLayer(server.baseUrl)))
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
})

import { assert, describe, it } from "@effect/vitest"
import { Cause, Option, Redacted, Schema } from "effect"
import * as TrustedTokenSet from "../src/internal/trustedTokenSet.js"
import * as IocmError from "../src/IocmError.js"
import { InvalidPlatformConfig } from "../src/PlatformConfig.js"
import { TokenSet } from "../src/TokenSet.js"

describe("TokenSet", () => {
  it("is built from the token fields alone: no refresh token, a 30-day refresh lifetime", () => {
    const tokens = new TokenSet({
      accessToken: Redacted.make("access-token"),
      tokenType: "bearer",
      scope: "default",
      expiresIn: 3600,
      issuedAt: 1_000
    })
    assert.isTrue(Option.isNone(tokens.refreshToken))
    assert.isTrue(Option.isNone(tokens.refreshExpiresAt))
    assert.strictEqual(tokens.expiresAt, 1_000 + 3_600_000)
    assert.isTrue(tokens.isValidAt(3_600_999))
    assert.isFalse(tokens.isValidAt(3_601_000))
    const withRefresh = new TokenSet({ ...tokens, refreshToken: Option.some(Redacted.make("refresh-token")) })
    assert.deepStrictEqual(withRefresh.refreshExpiresAt, Option.some(1_000 + 30 * 24 * 3_600_000))
  })
})

describe("error constructors", () => {
  it("default to the documented code and an empty description", () => {
    const cases: ReadonlyArray<[{ code: string; retryable: boolean; message: string }, string, boolean]> = [
      [new IocmError.AccountFrozen(), "100449", false],
      [new IocmError.MissingParameter(), "102202", false],
      [new IocmError.InvalidInput(), "50400", false],
      [new IocmError.InvalidCredentials(), "100208", false],
      [new IocmError.PlatformInternalError(), "50252", true],
      [new IocmError.RefreshTokenRejected(), "100006", false],
      [new IocmError.ApplicationFrozen(), "100247", false],
      [new IocmError.TransportError(), "Transport", true],
      [new IocmError.MalformedResponse(), "MalformedResponse", false]
    ]
    for (const [error, code, retryable] of cases) {
      assert.strictEqual(error.code, code)
      assert.strictEqual(error.retryable, retryable)
      assert.include(error.message, code)
    }
  })

  it("end a description without a full stop with one before the advice", () => {
    const error = new IocmError.UnknownPlatformError({
      code: "999",
      httpStatus: 503,
      description: "x",
      retryable: true
    })
    assert.include(error.message, "(999, HTTP 503): x. A code")
  })

  it("are named after their identifier in String, stacks and Cause.pretty, as Effect 4 names errors", () => {
    const errors: ReadonlyArray<Error & { readonly _tag: string }> = [
      new IocmError.AccountFrozen(),
      new IocmError.UnknownPlatformError({ code: "999", retryable: false }),
      new IocmError.TransportError({ description: "connect ECONNREFUSED" }),
      new InvalidPlatformConfig({ option: "baseUrl", reason: "not a valid absolute URL" })
    ]
    for (const error of errors) {
      const first = `@iocm/core/${error._tag}: ${error.message}`
      assert.strictEqual(error.name, `@iocm/core/${error._tag}`)
      assert.strictEqual(String(error), first)
      assert.isTrue(error.stack!.startsWith(first))
      assert.isTrue(Cause.pretty(Cause.fail(error)).startsWith(first))
    }
  })
})

describe("a TokenSet built from decoded fields", () => {
  const fields = {
    accessToken: Redacted.make("access-token-value"),
    refreshToken: Option.some(Redacted.make("refresh-token-value")),
    tokenType: "bearer",
    scope: "default",
    expiresIn: 3600,
    issuedAt: 1_000,
    refreshTokenLifetimeMillis: 60_000
  }

  it("is the same with effect's trusted constructor and with the checking one it falls back to", () => {
    const trusted = TrustedTokenSet.make(fields)
    const fallback = TrustedTokenSet.makeWith(undefined)(fields)
    for (const tokens of [trusted, fallback]) {
      assert.instanceOf(tokens, TokenSet)
      assert.strictEqual(Redacted.value(tokens.accessToken), "access-token-value")
      assert.strictEqual(tokens.expiresAt, 1_000 + 3_600_000)
      assert.deepStrictEqual(tokens.refreshExpiresAt, Option.some(1_000 + 60_000))
    }
    assert.deepStrictEqual(
      Schema.encodeSync(TokenSet)(trusted),
      Schema.encodeSync(TokenSet)(fallback)
    )
  })
})

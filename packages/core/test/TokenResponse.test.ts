import { assert, describe, it } from "@effect/vitest"
import { Option, Redacted, Result, Schema } from "effect"
import { decodeCanonical } from "../src/internal/response.js"
import * as Wire from "../src/Wire.js"
import { capturedSuccess } from "./utils/fixtures.js"

/** A decoded token response with its tokens in the clear, to compare two of them. */
const reveal = (response: Wire.TokenResponse) => ({
  ...response,
  accessToken: Redacted.value(response.accessToken),
  refreshToken: Option.map(response.refreshToken, Redacted.value)
})

const decodeWithSchema = Schema.decodeUnknownResult(Wire.TokenResponse)

const bodies: ReadonlyArray<[string, unknown]> = [
  ["the captured body", capturedSuccess],
  ["tokenType Bearer", { ...capturedSuccess, tokenType: "Bearer" }],
  ["tokenType mac", { ...capturedSuccess, tokenType: "mac" }],
  ["an empty refreshToken", { ...capturedSuccess, refreshToken: "" }],
  ["a null refreshToken", { ...capturedSuccess, refreshToken: null }],
  ["no refreshToken", { ...capturedSuccess, refreshToken: undefined }],
  ["a numeric refreshToken", { ...capturedSuccess, refreshToken: 42 }],
  ["a refreshToken with a space", { ...capturedSuccess, refreshToken: "a b" }],
  ["a null scope", { ...capturedSuccess, scope: null }],
  ["no scope", { ...capturedSuccess, scope: undefined }],
  ["an empty scope", { ...capturedSuccess, scope: "" }],
  ["a numeric scope", { ...capturedSuccess, scope: 1 }],
  ["expiresIn as a numeric string", { ...capturedSuccess, expiresIn: "3600" }],
  ["expiresIn 0", { ...capturedSuccess, expiresIn: 0 }],
  ["expiresIn -0", { ...capturedSuccess, expiresIn: -0 }],
  ["a fractional expiresIn", { ...capturedSuccess, expiresIn: 1.5 }],
  ["the longest expiresIn", { ...capturedSuccess, expiresIn: Wire.maxExpiresIn }],
  ["an expiresIn past the longest", { ...capturedSuccess, expiresIn: Wire.maxExpiresIn + 1 }],
  ["an accessToken with a control character", { ...capturedSuccess, accessToken: "abc\u0000def" }],
  ["an accessToken with a non-ASCII character", { ...capturedSuccess, accessToken: "abcé" }],
  ["an empty accessToken", { ...capturedSuccess, accessToken: "" }],
  ["no accessToken", { ...capturedSuccess, accessToken: undefined }],
  ["extra fields", { ...capturedSuccess, extra: "x" }],
  ["an array", [capturedSuccess]],
  ["null", null],
  ["a string", "token"]
]

describe("the fast path of the token response", () => {
  for (const [name, body] of bodies) {
    it(`agrees with Wire.TokenResponse on ${name}`, () => {
      const fast = decodeCanonical(body)
      const schema = decodeWithSchema(body)
      // Whatever the fast path decodes, the schema decodes the same way; it may leave the rest to the schema.
      if (fast !== undefined) {
        assert.isTrue(Result.isSuccess(schema))
        assert.deepStrictEqual(reveal(fast), reveal(Result.getOrThrow(schema)))
      }
    })
  }

  it("takes the platform's usual bodies", () => {
    assert.isDefined(decodeCanonical(capturedSuccess))
    assert.isDefined(decodeCanonical({ ...capturedSuccess, refreshToken: null, scope: null }))
  })
})

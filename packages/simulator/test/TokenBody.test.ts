/**
 * The token answer is built without a schema round-trip: its bytes must stay the `Wire` schema's.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Wire from "@iocm/core/Wire"
import { Option, Redacted, Schema } from "effect"
import * as Answers from "../src/internal/answers.js"
import * as Platform from "../src/internal/platform.js"

const issued = (expiresIn: number): Platform.Issued => ({
  session: {
    appId: "app",
    accessToken: Platform.randomToken(),
    refreshToken: Platform.randomToken(),
    issuedAt: 0,
    accessExpiresAt: 1,
    refreshExpiresAt: 2
  },
  expiresIn
})

const schemaBody = (value: Platform.Issued): string =>
  JSON.stringify(
    Schema.encodeSync(Wire.TokenResponse)({
      accessToken: Redacted.make(value.session.accessToken),
      tokenType: "bearer",
      expiresIn: value.expiresIn,
      refreshToken: Option.some(Redacted.make(value.session.refreshToken)),
      scope: "default"
    })
  )

describe("token body", () => {
  it("is byte for byte the encoding of Wire.TokenResponse", () => {
    for (const expiresIn of [1, 300, 3600, 2_592_000]) {
      const value = issued(expiresIn)
      assert.strictEqual(JSON.stringify(Answers.tokenFields(value)), schemaBody(value))
    }
  })

  it("decodes with Wire.TokenResponse to the issued tokens", () => {
    const value = issued(3600)
    const decoded = Schema.decodeUnknownSync(Wire.TokenResponse)(Answers.tokenFields(value))
    assert.strictEqual(Redacted.value(decoded.accessToken), value.session.accessToken)
    assert.strictEqual(
      Option.map(decoded.refreshToken, Redacted.value).pipe(Option.getOrUndefined),
      value.session.refreshToken
    )
  })
})

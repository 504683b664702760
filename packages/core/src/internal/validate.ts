/**
 * Validation of the platform's `String(256)` parameters before anything is sent.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { InvalidInput, MissingParameter } from "../IocmError.js"
import { maxParameterLength } from "../Wire.js"

/** Control characters, and lone surrogates (half a UTF-16 pair: no valid text contains one). */
const unsendableCharacter = /\p{Cc}|\p{Cs}/u

/**
 * Succeeds with the value, or fails with `MissingParameter` (missing, empty or only white space)
 * or `InvalidInput` (over 256 characters, or with control characters or a lone surrogate), both
 * marked as detected locally. The value itself is never put in the error.
 *
 * @internal
 */
export const validateParameter = (
  name: string,
  value: string | null | undefined
): Effect.Effect<string, MissingParameter | InvalidInput> => {
  if (typeof value !== "string" || value.trim().length === 0) {
    return Effect.fail(
      new MissingParameter({
        code: "102202",
        description: `${name} is missing, empty or blank.`,
        detectedLocally: true
      })
    )
  }
  if (value.length > maxParameterLength) {
    return Effect.fail(
      new InvalidInput({
        code: "50400",
        description: `${name} is longer than ${maxParameterLength} characters.`,
        detectedLocally: true
      })
    )
  }
  if (unsendableCharacter.test(value)) {
    return Effect.fail(
      new InvalidInput({
        code: "50400",
        description: `${name} contains control characters or a lone surrogate.`,
        detectedLocally: true
      })
    )
  }
  return Effect.succeed(value)
}

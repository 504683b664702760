/**
 * Builds a `TokenSet` from fields that were just decoded, without parsing them again.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import { TokenSet } from "../TokenSet.js"

/** The fields of a `TokenSet`, already valid. */
type Fields = Schema.Struct.Type<typeof TokenSet.fields>

/** effect's `Schema.makeClassTrusted`: a class instance from fields already valid against its struct. */
type MakeClassTrusted = <Self>(self: new(fields: never) => Self, fields: object) => Self

/**
 * The constructor to use, given what effect exports. `Schema.makeClassTrusted` is what effect's own
 * modules use to skip the parse (the checking constructor parses the structure and re-wraps both
 * `Redacted`, a tenth of a refresh's CPU); effect marks it `@internal`, so its types leave it out and a
 * release may drop it. Without it, the checking constructor (filters off) builds the same value.
 *
 * @internal
 */
export const makeWith = (trusted: MakeClassTrusted | undefined): (fields: Fields) => TokenSet =>
  typeof trusted === "function"
    ? (fields) => trusted(TokenSet, fields)
    : (fields) => new TokenSet(fields, { disableChecks: true })

/**
 * Builds a `TokenSet` from decoded fields, as cheaply as this version of effect allows.
 *
 * @internal
 */
export const make: (fields: Fields) => TokenSet = makeWith(
  (Schema as unknown as { readonly makeClassTrusted?: MakeClassTrusted }).makeClassTrusted
)

/**
 * How the commands print a token set. `iocm token` prints the access token — that is its point —
 * and nothing else on stdout; `iocm login` and `iocm refresh` mask both tokens unless asked with
 * `--show-tokens`. No command prints the secret.
 *
 * @internal
 */
import type * as TokenSet from "@iocm/core/TokenSet"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/** What a masked token is printed as: the word `@iocm/core` puts in place of a secret in its errors. */
const masked = "<masked>"

/**
 * A token set and where it came from: the fleet's store (with its generation) or a login.
 *
 * @internal
 */
export interface Obtained {
  readonly tokens: TokenSet.TokenSet
  readonly source: "store" | "login"
  /** The store's generation of the token; absent for a token of a login. */
  readonly generation?: number | undefined
}

/**
 * The formats of `iocm token`.
 *
 * @internal
 */
export type TokenFormat = "token" | "header" | "json"

const iso = (epochMillis: number): string => new Date(epochMillis).toISOString()

const secondsLeft = (tokens: TokenSet.TokenSet, now: number): number =>
  Math.max(0, Math.floor((tokens.expiresAt - now) / 1000))

/**
 * What `iocm token` prints: the access token, the `Authorization` header carrying it, or one JSON
 * object with its type, expiry and generation (the refresh token never).
 *
 * @internal
 */
export const printToken = (obtained: Obtained, format: TokenFormat, now: number): string => {
  const accessToken = Redacted.value(obtained.tokens.accessToken)
  switch (format) {
    case "token":
      return accessToken
    case "header":
      return `Authorization: Bearer ${accessToken}`
    case "json":
      return JSON.stringify({
        accessToken,
        tokenType: obtained.tokens.tokenType,
        expiresAt: iso(obtained.tokens.expiresAt),
        expiresIn: secondsLeft(obtained.tokens, now),
        generation: obtained.generation ?? null,
        source: obtained.source
      })
  }
}

/**
 * What `iocm login` and `iocm refresh` print: every field of the token set, as aligned lines or one
 * JSON object; the tokens masked unless `showTokens`.
 *
 * @internal
 */
export const printTokenSet = (
  tokens: TokenSet.TokenSet,
  options: { readonly json: boolean; readonly showTokens: boolean }
): string => {
  const show = (token: Redacted.Redacted<string>) => options.showTokens ? Redacted.value(token) : masked
  const fields = {
    accessToken: show(tokens.accessToken),
    refreshToken: Option.getOrNull(Option.map(tokens.refreshToken, show)),
    tokenType: tokens.tokenType,
    scope: tokens.scope,
    expiresIn: tokens.expiresIn,
    expiresAt: iso(tokens.expiresAt),
    refreshExpiresAt: Option.getOrNull(Option.map(tokens.refreshExpiresAt, iso))
  }
  if (options.json) return JSON.stringify(fields)
  const lines = Object.entries(fields).map(([name, value]) => `${name.padEnd(17)} ${value ?? "(none)"}`)
  const hint = options.showTokens ? [] : [`${"".padEnd(17)} (tokens masked: --show-tokens prints them)`]
  return [...lines, ...hint].join("\n")
}

/**
 * Masking of secrets and tokens in text that came from the network or from errors.
 *
 * A known secret is masked in every spelling it may be echoed in (as is, percent- or form-encoded,
 * any JSON spelling), wherever it occurs — except a secret shorter than 4 characters, which is
 * masked only where it stands alone (not inside a word): masking one to three characters inside
 * words would garble every text and still give the secret away.
 *
 * @internal
 */

const maskedValue = "<masked>"

const jsonSecretField =
  /("(?:access_?token|refresh_?token|accessToken|refreshToken|secret|token|password|passphrase)"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)/gi

const formSecretField = /\b((?:access_?token|refresh_?token|accessToken|refreshToken|secret|token)=)[^&\s"']*/gi

/** Secrets shorter than this are masked only where they stand alone: one to three characters are letters or syllables ("s" in "Headers"). */
const shortSecretLength = 4

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** `encode(text)`, or nothing when the text cannot be encoded (a lone surrogate). */
const attempt = (encode: (text: string) => string, text: string): ReadonlyArray<string> => {
  try {
    return [encode(text)]
  } catch {
    return []
  }
}

const lowerPercentEncoded = (text: string) =>
  encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())
const formEncoded = (text: string) => new URLSearchParams({ s: text }).toString().slice(2)

/** The URL spellings of a secret: percent-encoded (either case) and form-encoded. */
const urlSpellings = (secret: string): ReadonlyArray<string> =>
  [encodeURIComponent, lowerPercentEncoded, formEncoded].flatMap((encode) => attempt(encode, secret))

/** The short JSON escapes, besides `\uXXXX`, of the characters that have one. */
const shortEscapes: Readonly<Record<string, string>> = {
  "\"": "\\\"",
  "\\": "\\\\",
  "/": "\\/",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t"
}

/** A pattern for `\uXXXX` of one UTF-16 code unit, each hex digit in either case (Gson writes `\u003d`, others `\u00E4`). */
const unicodeEscapePattern = (unit: number): string =>
  "\\\\u" + unit.toString(16).padStart(4, "0").replace(/[a-f]/g, (digit) => `[${digit}${digit.toUpperCase()}]`)

/** A pattern for every JSON spelling of one character: as is, `\uXXXX` (a pair of them beyond the BMP), or its short escape. */
const characterPattern = (character: string): string => {
  const units = Array.from({ length: character.length }, (_, i) => unicodeEscapePattern(character.charCodeAt(i)))
  const short = shortEscapes[character]
  const spellings = [escapeRegExp(character), units.join(""), ...(short === undefined ? [] : [escapeRegExp(short)])]
  return `(?:${spellings.join("|")})`
}

/**
 * A pattern for a secret in any of its spellings: every JSON spelling (each character as is or
 * escaped, independently), percent-encoded or form-encoded. Short secrets must stand alone.
 */
const secretPattern = (secret: string): RegExp => {
  const json = Array.from(secret, characterPattern).join("")
  const url = [...new Set(urlSpellings(secret))].map(escapeRegExp)
  const pattern = [json, ...url].map((spelling) => `(?:${spelling})`).join("|")
  return secret.length >= shortSecretLength
    ? new RegExp(pattern, "gu")
    : new RegExp(`(?<![\\p{L}\\p{N}])(?:${pattern})(?![\\p{L}\\p{N}])`, "gu")
}

/**
 * Masks the values of token- and secret-like JSON and form fields, then every occurrence of the
 * given known secrets in any of their spellings: as is, percent- or form-encoded, or in any JSON
 * spelling (each character as is or `\uXXXX` in either case, `/` as `\/`, the short escapes `\"`
 * `\\` `\b` `\f` `\n` `\r` `\t`). A secret shorter than 4 characters is masked only where it stands
 * alone, not inside a word. Never throws.
 *
 * @internal
 */
export const maskSecrets = (text: string, known: ReadonlyArray<string>): string => {
  let masked = text.replace(jsonSecretField, `$1"${maskedValue}"`).replace(formSecretField, `$1${maskedValue}`)
  for (const secret of known) {
    if (secret.length > 0) masked = masked.replace(secretPattern(secret), maskedValue)
  }
  return masked
}

/**
 * The error texts the platform documents: they carry no secret, and are kept exactly as received
 * even when a (short) secret happens to occur in them.
 */
const documentedDescriptions = new Set([
  "The device is freezed cant operate.",
  "Required Parameter is null or empty.",
  "The input is invalid.",
  "AppId or secret is not right.",
  "Internal server error.",
  "The haproxy address is null.",
  "Refresh access token failed.",
  "Operation not allowed. The application has been frozen.",
  "Invalid access token or appId.",
  "app throttle exceed.",
  "AppId for auth not exist."
])

/** Runs of 16 or more letters, digits, `_` or `-` with at least one digit and one letter: tokens, not words. */
const tokenInText =
  /(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])/g

/** The known secrets and anything that looks like a token (a token echoed back, whichever it is), masked. */
const maskSecretsAndTokens = (text: string, known: ReadonlyArray<string>): string =>
  maskSecrets(text, known).replace(tokenInText, maskedValue)

/**
 * A platform's error text: kept as received when it is a documented one; otherwise the known
 * secrets and anything that looks like a token are masked.
 *
 * @internal
 */
export const maskDescription = (text: string, known: ReadonlyArray<string>): string =>
  documentedDescriptions.has(text) ? text : maskSecretsAndTokens(text, known)

/**
 * A platform's error code with the known secrets and token-like runs masked, as in a description:
 * the code is copied into the error's `code` and message, so a token sent as a code must not be.
 *
 * @internal
 */
export const maskCode: (code: string, known: ReadonlyArray<string>) => string = maskSecretsAndTokens

const tokenLike = /[A-Za-z0-9_-]{20,}/g

/**
 * Longest body excerpt kept in an error.
 *
 * @internal
 */
export const excerptLength = 200

/**
 * A masked excerpt of at most `excerptLength` characters: beyond `maskSecrets`, every run of 20 or
 * more token-like characters is masked too, since a body that does not decode may carry a token
 * under any name.
 *
 * @internal
 */
export const maskedExcerpt = (text: string, known: ReadonlyArray<string>): string =>
  maskSecrets(text, known).replace(tokenLike, maskedValue).slice(0, excerptLength)

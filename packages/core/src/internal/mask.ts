/**
 * Masking of secrets and tokens in text that came from the network or from errors.
 *
 * @internal
 */

const maskedValue = "<masked>"

const jsonSecretField =
  /("(?:access_?token|refresh_?token|accessToken|refreshToken|secret|token|password|passphrase)"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)/gi

const formSecretField = /\b((?:access_?token|refresh_?token|accessToken|refreshToken|secret|token)=)[^&\s"']*/gi

/** Secrets this short are masked only where they stand alone: inside words they would both garble and reveal the text. */
const shortSecretLength = 8

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
const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1)
const jsonAsciiEscaped = (text: string) =>
  jsonEscaped(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * A secret as it may be echoed back: as is, percent-encoded (either case), form-encoded, or
 * escaped in JSON (as is or as `\uXXXX`). Never throws, whatever the secret.
 */
const spellings = (secret: string): ReadonlyArray<string> => [
  ...new Set([
    secret,
    ...[encodeURIComponent, lowerPercentEncoded, formEncoded, jsonEscaped, jsonAsciiEscaped].flatMap((encode) =>
      attempt(encode, secret)
    )
  ])
]

/**
 * Masks the values of token- and secret-like JSON and form fields, then every occurrence of the
 * given known secrets in any of their spellings (as is, percent- or form-encoded, JSON-escaped).
 * A secret shorter than 8 characters is masked only where it stands alone, not inside a word.
 * Never throws.
 *
 * @internal
 */
export const maskSecrets = (text: string, known: ReadonlyArray<string>): string => {
  let masked = text.replace(jsonSecretField, `$1"${maskedValue}"`).replace(formSecretField, `$1${maskedValue}`)
  for (const secret of known) {
    if (secret.length === 0) continue
    for (const spelling of spellings(secret)) {
      masked = spelling.length >= shortSecretLength
        ? masked.split(spelling).join(maskedValue)
        : masked.replace(
          new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(spelling)}(?![\\p{L}\\p{N}])`, "gu"),
          maskedValue
        )
    }
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

/**
 * A platform's error text: kept as received when it is a documented one; otherwise the known
 * secrets and anything that looks like a token (a token the platform echoes back, whichever it
 * is) are masked.
 *
 * @internal
 */
export const maskDescription = (text: string, known: ReadonlyArray<string>): string =>
  documentedDescriptions.has(text) ? text : maskSecrets(text, known).replace(tokenInText, maskedValue)

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

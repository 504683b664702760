/**
 * Masking of secrets and tokens in text that came from the network or from errors.
 *
 * @internal
 */

const maskedValue = "<masked>"

const jsonSecretField =
  /("(?:access_?token|refresh_?token|accessToken|refreshToken|secret|token|password|passphrase)"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)/gi

const formSecretField = /\b((?:access_?token|refresh_?token|accessToken|refreshToken|secret|token)=)[^&\s"']*/gi

/**
 * Masks the values of token- and secret-like JSON and form fields, then every occurrence of the
 * given known secrets (even short ones: a secret echoed back must not leak).
 *
 * @internal
 */
export const maskSecrets = (text: string, known: ReadonlyArray<string>): string => {
  let masked = text.replace(jsonSecretField, `$1"${maskedValue}"`).replace(formSecretField, `$1${maskedValue}`)
  for (const secret of known) {
    if (secret.length > 0) {
      masked = masked.split(secret).join(maskedValue)
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

/**
 * A platform's error text: kept as received when it is a documented one, masked otherwise.
 *
 * @internal
 */
export const maskDescription = (text: string, known: ReadonlyArray<string>): string =>
  documentedDescriptions.has(text) ? text : maskSecrets(text, known)

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

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
 * given known secrets.
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
 * Longest body excerpt kept in an error.
 *
 * @internal
 */
export const excerptLength = 200

/**
 * A masked excerpt of at most `excerptLength` characters.
 *
 * @internal
 */
export const maskedExcerpt = (text: string, known: ReadonlyArray<string>): string =>
  maskSecrets(text, known).slice(0, excerptLength)

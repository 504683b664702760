/**
 * The rules a token response's fields must follow, shared by the `Wire` schemas and the fast path
 * of `readTokenResponse`, so that the two cannot disagree.
 *
 * @internal
 */

/**
 * A token as it may travel in a header: visible ASCII, no space, no control character.
 *
 * @internal
 */
export const tokenPattern = /^[\x21-\x7e]+$/

/**
 * Whether a `tokenType` is "bearer", in any case (real platforms send "bearer", the documents say "Bearer").
 *
 * @internal
 */
export const isBearer = (tokenType: string): boolean => tokenType.toLowerCase() === "bearer"

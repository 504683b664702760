/**
 * The stored value of a token record: the encoded `StoredToken` sealed with AES-256-GCM under a key
 * derived for one appId, with the appId and the generation as associated data, or — only when the
 * user opted in by name — the encoded JSON as it is. Pure functions: the IV is a parameter.
 *
 * Sealed: `v1.<key id>.<iv, base64url>.<ciphertext ‖ tag, base64url>`. Plaintext: `plain.<json>`.
 *
 * @internal
 */
import * as Result from "effect/Result"
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from "node:crypto"

/** One key of a keyring: its public id and the AES key derived from it for one appId. */
export interface Key {
  readonly id: string
  readonly aes: Buffer
}

/** How records are written and read: sealed with `current` (and opened with `previous` too), or plaintext. */
export type Codec =
  | { readonly _tag: "Sealed"; readonly current: Key; readonly previous: ReadonlyArray<Key> }
  | { readonly _tag: "Plaintext" }

/** The length of an AES-256 key and of a master key, in bytes. */
export const keyLength = 32

/** The length of an AES-GCM IV, in bytes: fresh for every write. */
export const ivLength = 12

const tagLength = 16
const sealedVersion = "v1"
const plaintextVersion = "plain"
const hexKey = /^[0-9a-fA-F]{64}$/
const base64Key = /^[A-Za-z0-9+/_-]{43}=?$/

/** The 32 bytes of a master key written in hex (64 digits) or base64 (standard or url-safe), or undefined. */
export const parseKey = (text: string): Buffer | undefined => {
  const trimmed = text.trim()
  if (hexKey.test(trimmed)) return Buffer.from(trimmed, "hex")
  if (!base64Key.test(trimmed)) return undefined
  const bytes = Buffer.from(trimmed, "base64")
  return bytes.length === keyLength ? bytes : undefined
}

/**
 * A master key's public id: 8 hex digits of a hash of it, naming which key sealed a record (32 bits
 * of a hash say nothing useful about a 256-bit key).
 */
const keyId = (master: Buffer): string =>
  createHash("sha256").update("iocm-token-store-key-id").update(master).digest("hex").slice(0, 8)

/** The key `master` gives for `appId`: a subkey (HKDF-SHA-256), so that each app has a key of its own. */
export const deriveKey = (master: Buffer, appId: string): Key => ({
  id: keyId(master),
  aes: Buffer.from(hkdfSync("sha256", master, appId, "iocm-token-store-v1", keyLength))
})

/** The associated data of a record: a record moved to another appId or generation does not open. */
export const associatedData = (appId: string, generation: number): Buffer =>
  Buffer.from(`iocm:v1:${appId}:${generation}`, "utf8")

/** `plaintext` written under `codec`, with `iv` (of `ivLength` bytes) when it seals. */
export const seal = (codec: Codec, plaintext: string, aad: Buffer, iv: Buffer): string => {
  if (codec._tag === "Plaintext") return `${plaintextVersion}.${plaintext}`
  const cipher = createCipheriv("aes-256-gcm", codec.current.aes, iv, { authTagLength: tagLength })
  cipher.setAAD(aad)
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()])
  return [sealedVersion, codec.current.id, iv.toString("base64url"), body.toString("base64url")].join(".")
}

/** The plaintext of `record` under `codec`, or why it does not open (never showing any of it). */
export const open = (codec: Codec, record: string, aad: Buffer): Result.Result<string, string> => {
  const dot = record.indexOf(".")
  const version = record.slice(0, dot)
  if (version === plaintextVersion) {
    return codec._tag === "Plaintext"
      ? Result.succeed(record.slice(dot + 1))
      : Result.fail("the record is not encrypted, and this store requires encryption")
  }
  if (version !== sealedVersion) return Result.fail("the record is not in a format this version knows")
  if (codec._tag === "Plaintext") return Result.fail("the record is encrypted, and this store has no key")
  const [id, iv, body] = record.slice(dot + 1).split(".")
  const key = [codec.current, ...codec.previous].find((key) => key.id === id)
  if (key === undefined) {
    return Result.fail(`the record is encrypted with a key this store does not have (key id ${id})`)
  }
  return decrypt(key, Buffer.from(iv ?? "", "base64url"), Buffer.from(body ?? "", "base64url"), aad)
}

const decrypt = (key: Key, iv: Buffer, body: Buffer, aad: Buffer): Result.Result<string, string> => {
  if (iv.length !== ivLength || body.length < tagLength) return Result.fail("the record is truncated")
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.aes, iv, { authTagLength: tagLength })
    decipher.setAAD(aad)
    decipher.setAuthTag(body.subarray(body.length - tagLength))
    const plaintext = Buffer.concat([decipher.update(body.subarray(0, body.length - tagLength)), decipher.final()])
    return Result.succeed(plaintext.toString("utf8"))
  } catch {
    return Result.fail("the record does not decrypt: altered, or moved from another appId or generation")
  }
}

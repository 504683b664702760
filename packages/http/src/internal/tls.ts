/**
 * Validation of the TLS options and construction of the secure context, done once when the layer is
 * built so that a bad PEM, a wrong passphrase or a key that does not belong to the certificate fails
 * there, with a reason that never contains key material or the passphrase.
 *
 * @internal
 */
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Crypto from "node:crypto"
import * as Tls from "node:tls"
import type { Options } from "../IocmHttp.js"

/** @internal */
export type Pem = string | Uint8Array

/** @internal */
export type TlsOption = "ca" | "cert" | "key" | "pfx" | "passphrase" | "minVersion" | "serverName" | "verifyHostname"

/** @internal */
export interface Issue {
  readonly option: TlsOption
  readonly reason: string
  /** which entry of `ca`, when `ca` is a list */
  readonly index?: number | undefined
}

/** @internal */
export type TlsInput = Pick<
  Options,
  "ca" | "cert" | "key" | "pfx" | "passphrase" | "verifyHostname" | "serverName" | "minVersion"
>

const toBuffer = (pem: Pem): Buffer =>
  typeof pem === "string" ? Buffer.from(pem, "utf8") : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength)

const unredact = <A>(value: A | Redacted.Redacted<A>): A => Redacted.isRedacted(value) ? Redacted.value(value) : value

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

const isEncryptedPem = (pem: Buffer): boolean => {
  const text = pem.toString("latin1")
  return text.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.includes("Proc-Type: 4,ENCRYPTED")
}

const errorCode = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "code" in u && typeof u.code === "string" ? u.code : undefined

const validateCa = (ca: ReadonlyArray<Buffer>): Issue | undefined => {
  for (let index = 0; index < ca.length; index++) {
    const at = ca.length > 1 ? index : undefined
    const blocks = ca[index]!.toString("latin1").match(PEM_CERTIFICATE)
    if (blocks === null) {
      return { option: "ca", index: at, reason: "no PEM certificate found (expected -----BEGIN CERTIFICATE-----)" }
    }
    for (let n = 0; n < blocks.length; n++) {
      try {
        new Crypto.X509Certificate(blocks[n]!)
      } catch {
        return {
          option: "ca",
          index: at,
          reason: `certificate ${n + 1} of ${blocks.length} is not a valid PEM certificate`
        }
      }
    }
  }
  return undefined
}

const validatePemIdentity = (
  cert: Buffer,
  key: Buffer,
  passphrase: string | undefined
): Issue | undefined => {
  let certificate: Crypto.X509Certificate
  try {
    certificate = new Crypto.X509Certificate(cert)
  } catch {
    return { option: "cert", reason: "not a valid PEM certificate (expected -----BEGIN CERTIFICATE-----)" }
  }
  const encrypted = isEncryptedPem(key)
  if (encrypted && passphrase === undefined) {
    return { option: "passphrase", reason: "the private key is encrypted and no passphrase was given" }
  }
  let privateKey: Crypto.KeyObject
  try {
    privateKey = Crypto.createPrivateKey(
      passphrase === undefined ? { key, format: "pem" } : { key, format: "pem", passphrase }
    )
  } catch (cause) {
    const code = errorCode(cause)
    if (encrypted && (code === "ERR_OSSL_BAD_DECRYPT" || code === "ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED")) {
      return { option: "passphrase", reason: "wrong passphrase for the encrypted private key" }
    }
    return { option: "key", reason: "not a valid PEM private key (expected -----BEGIN PRIVATE KEY-----)" }
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    return { option: "key", reason: "the private key does not belong to the client certificate" }
  }
  return undefined
}

/**
 * What undici's connector passes on to `tls.connect`.
 *
 * @internal
 */
export interface ConnectTls {
  readonly secureContext: Tls.SecureContext
  readonly rejectUnauthorized: true
  readonly servername?: string
  readonly checkServerIdentity?: (hostname: string, cert: Tls.PeerCertificate) => Error | undefined
}

/**
 * The options handed to undici's connector (and so to `tls.connect`): a prebuilt secure context, chain
 * verification forced on, and at most the host name check relaxed.
 *
 * @internal
 */
export const makeConnectOptions = (input: TlsInput): Result.Result<ConnectTls, Issue> => {
  const minVersion = input.minVersion ?? "TLSv1.2"
  if (minVersion !== "TLSv1.2" && minVersion !== "TLSv1.3") {
    return Result.fail({ option: "minVersion", reason: `must be "TLSv1.2" or "TLSv1.3"` })
  }
  if (input.serverName !== undefined && input.serverName.trim() === "") {
    return Result.fail({ option: "serverName", reason: "must not be empty" })
  }
  if (input.verifyHostname === false && input.ca === undefined) {
    return Result.fail({
      option: "verifyHostname",
      reason: "false needs ca: without the name check, Node's public roots would accept a certificate issued " +
        "to any web site; trust only the platform's CA"
    })
  }
  const ca = input.ca === undefined
    ? undefined
    : (typeof input.ca === "string" || input.ca instanceof Uint8Array ? [input.ca] : input.ca as ReadonlyArray<Pem>)
      .map(toBuffer)
  if (ca !== undefined) {
    if (ca.length === 0) {
      return Result.fail({ option: "ca", reason: "an empty list trusts nothing; leave ca out to use Node's roots" })
    }
    const issue = validateCa(ca)
    if (issue !== undefined) return Result.fail(issue)
  }
  const passphrase = input.passphrase === undefined ? undefined : Redacted.value(input.passphrase)
  const cert = input.cert === undefined ? undefined : toBuffer(input.cert)
  const key = input.key === undefined ? undefined : toBuffer(unredact(input.key))
  const pfx = input.pfx === undefined ? undefined : toBuffer(unredact(input.pfx))

  const context: Tls.SecureContextOptions = { minVersion }
  if (ca !== undefined) context.ca = ca
  if (pfx !== undefined) {
    if (cert !== undefined || key !== undefined) {
      return Result.fail({
        option: "pfx",
        reason: "give the client identity either as pfx or as cert and key, not both"
      })
    }
    context.pfx = pfx
    if (passphrase !== undefined) context.passphrase = passphrase
  } else if (cert !== undefined || key !== undefined) {
    if (cert === undefined) {
      return Result.fail({ option: "cert", reason: "a private key was given without its client certificate" })
    }
    if (key === undefined) {
      return Result.fail({ option: "key", reason: "a client certificate was given without its private key" })
    }
    const issue = validatePemIdentity(cert, key, passphrase)
    if (issue !== undefined) return Result.fail(issue)
    context.cert = cert
    context.key = key
    if (passphrase !== undefined) context.passphrase = passphrase
  }

  let secureContext: Tls.SecureContext
  try {
    secureContext = Tls.createSecureContext(context)
  } catch (cause) {
    // OpenSSL's messages name the failing routine, never the input, but we still use our own words.
    if (pfx !== undefined) {
      const message = cause instanceof Error ? cause.message : ""
      if (/mac verify failure/i.test(message)) {
        return Result.fail({
          option: "passphrase",
          reason: passphrase === undefined
            ? "the PKCS#12 file is protected by a passphrase and none was given"
            : "wrong passphrase for the PKCS#12 file (or the file is corrupt)"
        })
      }
      if (errorCode(cause) === "ERR_CRYPTO_UNSUPPORTED_OPERATION" || /unsupported/i.test(message)) {
        return Result.fail({
          option: "pfx",
          reason: "the PKCS#12 file is encrypted with a legacy cipher (such as RC2-40) that OpenSSL 3 no longer " +
            "reads; re-encrypt it: openssl pkcs12 -legacy -in old.p12 -nodes -out id.pem && " +
            "openssl pkcs12 -export -in id.pem -out new.p12"
        })
      }
      return Result.fail({ option: "pfx", reason: "not a valid PKCS#12 (.p12/.pfx) file" })
    }
    const code = errorCode(cause)
    return Result.fail({
      option: cert !== undefined ? "cert" : "ca",
      reason: `the TLS settings were rejected${code === undefined ? "" : ` (${code})`}`
    })
  }

  return Result.succeed({
    secureContext,
    rejectUnauthorized: true,
    ...(input.serverName === undefined ? {} : { servername: input.serverName }),
    // Only the name check is skipped: the chain is still verified because rejectUnauthorized stays true.
    ...(input.verifyHostname === false ? { checkServerIdentity: () => undefined } : {})
  })
}

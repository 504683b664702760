/**
 * The steps of `iocm doctor`, one function each, in the order the doctor runs them: what each
 * found when it passes, and when it fails, what is wrong, the fix, and the class of the failure
 * (an `ExitCode`). They read the settings the way the library does (`PlatformConfig`,
 * `IocmHttp.envConfig`), so that what the doctor checks is what the app would use.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as IocmHttp from "@iocm/http/IocmHttp"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Net from "node:net"
import * as Tls from "node:tls"
import * as ExitCode from "../ExitCode.js"
import * as Probe from "./probe.js"
import * as Settings from "./settings.js"

/**
 * A step that passed: what it found, and what the next steps need.
 *
 * @internal
 */
export interface Passed<A> {
  readonly detail: string
  readonly value: A
}

/**
 * A step that failed: what is wrong, what to do, and the class of the failure.
 *
 * @internal
 */
export class CheckFailed extends Data.TaggedError("CheckFailed")<{
  readonly problem: string
  readonly fix: string
  readonly code: number
}> {}

const passed = <A>(detail: string, value: A): Passed<A> => ({ detail, value })

const failed = (code: number, problem: string, fix: string) => new CheckFailed({ problem, fix, code })

// --- the base URL ---------------------------------------------------------------------------------

/**
 * Where the platform is: `IOCM_BASE_URL`, read and validated as `PlatformConfig` does.
 *
 * @internal
 */
export const baseUrl: Effect.Effect<Passed<URL>, CheckFailed> = Effect.gen(function*() {
  const fix = "set IOCM_BASE_URL (or --base-url) to the platform's address, e.g. https://203.0.113.10:8743"
  const text = yield* Effect.mapError(
    PlatformConfig.envConfig.baseUrl,
    (error) => failed(ExitCode.Configuration, error.message, fix)
  )
  const href = yield* Effect.mapError(
    PlatformConfig.validateBaseUrl(text),
    (error) => failed(ExitCode.Configuration, error.message, fix)
  )
  return passed(href, new URL(href))
})

/** The host of a URL as a socket takes it (an IPv6 address without its brackets). */
const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, "$1")

/** The port of a URL, its scheme's default when it has none. */
const portOf = (url: URL): number => url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)

// --- the TLS settings -----------------------------------------------------------------------------

/**
 * The transport's settings and the client built from them, for the steps after.
 *
 * @internal
 */
export interface Transport {
  readonly options: IocmHttp.Options
  readonly client: HttpClient.HttpClient
  /** The bound on each network step. */
  readonly timeout: Duration.Duration
}

/** How long each network step may take when `IOCM_CONNECT_TIMEOUT` does not say. */
const defaultStepTimeout = Duration.seconds(10)

const toBuffer = (pem: IocmHttp.Pem): Buffer => typeof pem === "string" ? Buffer.from(pem, "utf8") : Buffer.from(pem)

const unredact = <A>(value: A | Redacted.Redacted<A>): A => Redacted.isRedacted(value) ? Redacted.value(value) : value

const caOf = (options: IocmHttp.Options): Array<Buffer> | undefined =>
  options.ca === undefined
    ? undefined
    : (typeof options.ca === "string" || options.ca instanceof Uint8Array ? [options.ca] : [...options.ca]).map(
      toBuffer
    )

/** The client certificate's subject, or where the identity comes from; `undefined` without one. */
const identityOf = (options: IocmHttp.Options): string | undefined => {
  if (options.pfx !== undefined) return "the PKCS#12 identity of IOCM_PFX_FILE"
  if (options.cert === undefined) return undefined
  const certificate = new Crypto.X509Certificate(toBuffer(options.cert))
  return `${certificate.subject.replace(/\n/g, ", ")} (until ${day(certificate.validTo)})`
}

const day = (date: string): string => new Date(date).toISOString().slice(0, 10)

const certificateCount = (ca: ReadonlyArray<Buffer>): number =>
  ca.reduce((n, pem) => n + (pem.toString("latin1").match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0), 0)

/** The fix for a setting `@iocm/http` refused, by the option at fault. */
const settingFix = (option: IocmHttp.ConfigOption): string => {
  switch (option) {
    case "ca":
      return "IOCM_CA_FILE must hold the platform's CA certificates as PEM (-----BEGIN CERTIFICATE-----); " +
        "convert a DER file with: openssl x509 -inform DER -in ca.cer -out ca.pem"
    case "cert":
    case "key":
      return "IOCM_CERT_FILE and IOCM_KEY_FILE must be the PEM certificate issued for your application and its own key"
    case "pfx":
    case "passphrase":
      return "IOCM_PFX_FILE must be your application's PKCS#12 file, and IOCM_PASSPHRASE its passphrase"
    case "verifyHostname":
      return "prefer IOCM_SERVER_NAME; IOCM_VERIFY_HOSTNAME=false needs IOCM_CA_FILE"
    default:
      return "correct the variable named above"
  }
}

/**
 * The TLS files and settings (`IOCM_CA_FILE`, `IOCM_CERT_FILE`, …): read, and checked by building
 * the transport with them, as `IocmHttp.layerConfig()` does.
 *
 * @internal
 */
export const tlsSettings: Effect.Effect<Passed<Transport>, CheckFailed, Scope.Scope> = Effect.gen(function*() {
  const options = yield* Effect.mapError(
    IocmHttp.envConfig,
    (error) => failed(ExitCode.Configuration, error.message, "point the variable at a readable file")
  )
  const context = yield* Layer.build(IocmHttp.layerConfig(Config.succeed(options))).pipe(
    Effect.mapError((error) =>
      failed(
        ExitCode.Configuration,
        error.message,
        error._tag === "IocmHttpConfigError" ? settingFix(error.option) : "correct the variable named above"
      )
    )
  )
  const ca = caOf(options)
  const identity = identityOf(options)
  const detail = [
    ca === undefined
      ? "CA: Node's public roots (IOCM_CA_FILE is not set)"
      : `CA: ${certificateCount(ca)} certificate(s)`,
    `client certificate: ${identity ?? "none"}`,
    ...(options.serverName === undefined ? [] : [`server name: ${options.serverName}`])
  ].join("; ")
  const timeout = options.connectTimeout === undefined
    ? defaultStepTimeout
    : Duration.fromInputUnsafe(options.connectTimeout)
  return passed(detail, { options, client: yield* HttpClient.HttpClient.pipe(Effect.provide(context)), timeout })
})

// --- DNS and TCP ----------------------------------------------------------------------------------

/**
 * The lookup of the URL's host (none for an IP address).
 *
 * @internal
 */
export const dns = (url: URL, transport: Transport): Effect.Effect<Passed<void>, CheckFailed> => {
  const host = hostOf(url)
  if (Net.isIP(host) !== 0) return Effect.succeed(passed(`${host} is an IP address: nothing to look up`, undefined))
  return Probe.lookup(host, transport.timeout).pipe(
    Effect.map((addresses) => passed(`${host} is ${addresses.join(", ")}`, undefined)),
    Effect.mapError((error) =>
      failed(
        ExitCode.Transport,
        error.code === "Timeout"
          ? `no answer to the lookup of ${host} within ${Duration.format(transport.timeout)}`
          : `host not found: ${host} (${error.code})`,
        "check the host in IOCM_BASE_URL, and this machine's DNS (/etc/resolv.conf); an IP address needs no lookup"
      )
    )
  )
}

/**
 * A TCP connection to the URL's host and port.
 *
 * @internal
 */
export const tcp = (url: URL, transport: Transport): Effect.Effect<Passed<void>, CheckFailed> => {
  const target = `${url.hostname}:${portOf(url)}`
  return Probe.connect(hostOf(url), portOf(url), transport.timeout).pipe(
    Effect.map((address) => passed(`connected to ${address}`, undefined)),
    Effect.mapError((error) => {
      switch (error.code) {
        case "ECONNREFUSED":
          return failed(
            ExitCode.Transport,
            `connection refused by ${target} (ECONNREFUSED): nothing listens there`,
            "check the port in IOCM_BASE_URL (the platform's is 8743) and that the platform is up"
          )
        case "Timeout":
          return failed(
            ExitCode.Transport,
            `no connection to ${target} within ${Duration.format(transport.timeout)}`,
            "a firewall drops the packets, or the host is down: check the route to it (IOCM_CONNECT_TIMEOUT bounds this)"
          )
        default:
          return failed(
            ExitCode.Transport,
            `no connection to ${target} (${error.code}: ${error.message})`,
            "check the address in IOCM_BASE_URL and the network between this machine and the platform"
          )
      }
    })
  )
}

// --- TLS ------------------------------------------------------------------------------------------

/** What the doctor's handshake offers: the transport's CAs, client identity, SNI and lowest version. */
const connectionOptions = (url: URL, options: IocmHttp.Options): Tls.ConnectionOptions => {
  const host = hostOf(url)
  const ca = caOf(options)
  const servername = options.serverName ?? (Net.isIP(host) === 0 ? host : undefined)
  return {
    minVersion: options.minVersion ?? "TLSv1.2",
    ...(ca === undefined ? {} : { ca }),
    ...(options.cert === undefined ? {} : { cert: toBuffer(options.cert) }),
    ...(options.key === undefined ? {} : { key: toBuffer(unredact(options.key)) }),
    ...(options.pfx === undefined ? {} : { pfx: toBuffer(unredact(options.pfx)) }),
    ...(options.passphrase === undefined ? {} : { passphrase: Redacted.value(options.passphrase) }),
    ...(servername === undefined ? {} : { servername })
  }
}

const clientCertificateFix = "set IOCM_CERT_FILE and IOCM_KEY_FILE (or IOCM_PFX_FILE and IOCM_PASSPHRASE) to the " +
  "certificate the platform issued for your application"

const handshakeFailure = (url: URL, transport: Transport, error: Probe.ProbeError): CheckFailed => {
  const target = `${url.hostname}:${portOf(url)}`
  if (/^ERR_SSL_.*ALERT/.test(error.code)) {
    return failed(ExitCode.Transport, `the server refused the TLS handshake (${error.code})`, clientCertificateFix)
  }
  if (error.code === "ECONNRESET" || error.code === "Closed") {
    return failed(
      ExitCode.Transport,
      `the server closed the connection during the TLS handshake (${error.code}); a server that requires a client ` +
        "certificate does this when none, or an untrusted one, is presented",
      `${clientCertificateFix}; or check that ${target} speaks TLS`
    )
  }
  if (error.code === "Timeout") {
    return failed(
      ExitCode.Transport,
      `no TLS handshake with ${target} within ${Duration.format(transport.timeout)}`,
      "the port accepts connections but does not complete TLS: check that it is the platform's HTTPS port (8743)"
    )
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH|HTTP_REQUEST/.test(error.code)) {
    return failed(
      ExitCode.Transport,
      `${target} does not speak TLS (${error.code})`,
      "check the port in IOCM_BASE_URL; plain http:// is for a simulator on loopback only"
    )
  }
  return failed(
    ExitCode.Transport,
    `the TLS handshake with ${target} failed (${error.code}: ${error.message})`,
    "check IOCM_CA_FILE, the client certificate and the port"
  )
}

/**
 * A TLS handshake with the transport's settings; the session (the server's certificate and the
 * verdict on its chain) lives as long as the scope.
 *
 * @internal
 */
export const handshake = (
  url: URL,
  transport: Transport
): Effect.Effect<Passed<Probe.Session>, CheckFailed, Scope.Scope> =>
  Probe.handshake(hostOf(url), portOf(url), connectionOptions(url, transport.options), transport.timeout).pipe(
    Effect.map((session) => passed(`${session.protocol}`, session)),
    Effect.mapError((error) => handshakeFailure(url, transport, error))
  )

const nameOf = (subject: Tls.Certificate | undefined): string =>
  subject?.CN === undefined ? "no common name" : `CN=${String(subject.CN)}`

/** Chain errors that mean: no CA the client trusts issued this chain. */
const unknownCa = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED"
])

const now = () => new Date().toISOString().slice(0, 19) + "Z"

/**
 * The server's certificate chain, verified against `IOCM_CA_FILE` (Node's roots without it): an
 * unknown CA, an expired and a not yet valid certificate are told apart.
 *
 * @internal
 */
export const chain = (
  url: URL,
  session: Probe.Session,
  transport: Transport
): Effect.Effect<Passed<void>, CheckFailed> => {
  const { certificate, chainError } = session
  const server = `the server's certificate (${nameOf(certificate.subject)}, issued by ${nameOf(certificate.issuer)})`
  if (chainError === undefined) {
    return Effect.succeed(passed(`${server}, valid until ${day(certificate.valid_to)}`, undefined))
  }
  if (unknownCa.has(chainError)) {
    return Effect.fail(failed(
      ExitCode.Transport,
      `${server} does not lead to a CA this client trusts (${chainError})`,
      transport.options.ca === undefined
        ? "IOCM_CA_FILE is not set, so only Node's public roots are trusted: set it to the platform's CA bundle (PEM)"
        : `put the CA that issued it (${nameOf(certificate.issuer)}) into IOCM_CA_FILE; see the chain with ` +
          `openssl s_client -connect ${url.hostname}:${portOf(url)} -showcerts </dev/null`
    ))
  }
  if (chainError === "CERT_HAS_EXPIRED") {
    return Effect.fail(failed(
      ExitCode.Transport,
      `${server} expired on ${certificate.valid_to} (CERT_HAS_EXPIRED)`,
      `the platform must renew its certificate; if that date is still ahead, this machine's clock is wrong (it says ${now()})`
    ))
  }
  if (chainError === "CERT_NOT_YET_VALID") {
    return Effect.fail(failed(
      ExitCode.Transport,
      `${server} is valid only from ${certificate.valid_from} (CERT_NOT_YET_VALID)`,
      `this machine's clock is probably behind (it says ${now()}): set it right (NTP)`
    ))
  }
  return Effect.fail(failed(
    ExitCode.Transport,
    `${server} is not trusted (${chainError})`,
    "check that IOCM_CA_FILE holds the CA that issued the platform's certificate, and only CA certificates"
  ))
}

/** The names a certificate carries: its subject alternative names, else its common name. */
const namesOf = (certificate: Tls.PeerCertificate): ReadonlyArray<string> => {
  const alternatives = (certificate.subjectaltname ?? "").split(",").map((n) => n.trim()).filter((n) => n !== "")
  return alternatives.length > 0 ? alternatives : [nameOf(certificate.subject)]
}

/**
 * The server's certificate carries the URL's host, or `IOCM_SERVER_NAME` when it is set.
 *
 * @internal
 */
export const hostName = (
  url: URL,
  session: Probe.Session,
  transport: Transport
): Effect.Effect<Passed<void>, CheckFailed> => {
  const { serverName, verifyHostname } = transport.options
  if (verifyHostname === false) {
    return Effect.succeed(passed("not checked: IOCM_VERIFY_HOSTNAME=false (the chain is still verified)", undefined))
  }
  const name = serverName ?? hostOf(url)
  const given = serverName === undefined ? "" : " (IOCM_SERVER_NAME)"
  const mismatch = Tls.checkServerIdentity(name, session.certificate)
  if (mismatch === undefined) return Effect.succeed(passed(`the certificate names ${name}${given}`, undefined))
  const names = namesOf(session.certificate)
  const suggestion = names.find((n) => n.startsWith("DNS:"))?.slice(4) ?? names[0] ?? "<a name in the certificate>"
  return Effect.fail(failed(
    ExitCode.Transport,
    `the certificate names ${names.join(", ")}, not ${name}${given} (ERR_TLS_CERT_ALTNAME_INVALID)`,
    `set IOCM_SERVER_NAME=${suggestion} (a name the certificate carries; nothing is skipped then), or ` +
      "IOCM_VERIFY_HOSTNAME=false with IOCM_CA_FILE to skip only this check (test platforms only)"
  ))
}

const clientCertificateFailure = (transport: Transport, error: Probe.ProbeError): CheckFailed => {
  const identity = identityOf(transport.options)
  if (error.code === "Timeout") {
    return failed(
      ExitCode.Transport,
      `the TLS session is open, but the server did not answer within ${Duration.format(transport.timeout)}`,
      "check that IOCM_BASE_URL is the platform's northbound API"
    )
  }
  if (identity === undefined || /CERTIFICATE_REQUIRED/.test(error.code)) {
    return failed(
      ExitCode.Transport,
      `the server requires a client certificate, and none is configured (${error.code})`,
      clientCertificateFix
    )
  }
  return failed(
    ExitCode.Transport,
    `the server refused the client certificate ${identity}: ${
      error.code === "Closed" ? "it closed the connection without answering" : error.code
    }`,
    `${clientCertificateFix}: the platform does not trust the CA that issued this one`
  )
}

/**
 * Whether the server accepts the client certificate (or needs none): it answers a request on the
 * session.
 *
 * @internal
 */
export const clientCertificate = (
  url: URL,
  session: Probe.Session,
  transport: Transport
): Effect.Effect<Passed<void>, CheckFailed> =>
  Probe.exchange(session, url.host, transport.timeout).pipe(
    Effect.map((status) => {
      const identity = identityOf(transport.options)
      return passed(
        identity === undefined
          ? `none presented, and the server answered (${status}): it requires none`
          : `accepted: ${identity}`,
        undefined
      )
    }),
    Effect.mapError((error) => clientCertificateFailure(transport, error))
  )

// --- the login ------------------------------------------------------------------------------------

/** The fix for a login the platform refused, by the error's tag. */
const loginFix = (tag: string): string => {
  switch (tag) {
    case "ConfigError":
    case "InvalidPlatformConfig":
      return "set IOCM_APP_ID and IOCM_SECRET to your application's credentials"
    case "InvalidCredentials":
    case "MissingParameter":
    case "InvalidInput":
      return "check IOCM_APP_ID and IOCM_SECRET against the platform's portal: no stray space, quote or newline"
    case "AccountFrozen":
    case "ApplicationFrozen":
      return "have the application unfrozen on the platform"
    case "TransportError":
      return "the checks above passed, so the request failed on its way: a proxy (HTTPS_PROXY) or IOCM_TIMEOUT"
    case "MalformedResponse":
      return "the server answered, but not as the platform's login: check the path of IOCM_BASE_URL and any proxy"
    default:
      return "retry later; if it persists, contact the platform's maintainers"
  }
}

/**
 * A login with `IOCM_APP_ID` and `IOCM_SECRET` over the transport: the credentials, and the whole
 * path as the app takes it. The token is not shown.
 *
 * @internal
 */
export const login = (transport: Transport): Effect.Effect<Passed<void>, CheckFailed> =>
  Effect.gen(function*() {
    const { appId } = yield* PlatformConfig.PlatformConfig
    yield* Settings.warnInvalidation("doctor", "login", appId)
    const tokens = yield* IocmAuth.IocmAuth.use((auth) => auth.login)
    return passed(`logged in as ${appId}: a token valid for ${tokens.expiresIn} s (not shown)`, undefined)
  }).pipe(
    Effect.provide(IocmAuth.layer.pipe(
      Layer.provideMerge(PlatformConfig.layerConfig()),
      Layer.provide(Layer.succeed(HttpClient.HttpClient, transport.client))
    )),
    Effect.mapError((error) => failed(ExitCode.of(error), error.message, loginFix(error._tag)))
  )

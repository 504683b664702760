/**
 * The committed TEST-ONLY certificates (`packages/simulator/fixtures`, see its README): the test CA,
 * the server certificate for loopback, client identities for mutual TLS, and the unrelated or
 * mismatching ones the "refused" tests need.
 *
 * @since 0.0.0
 */
import * as Fs from "node:fs"
import * as Url from "node:url"

const fixturesDirectory = new URL("../../simulator/fixtures/", import.meta.url)

/**
 * The absolute path of a fixture file, for options and variables that take a file name.
 *
 * @since 0.0.0
 * @category fixtures
 */
export const fixturePath = (name: string): string => Url.fileURLToPath(new URL(name, fixturesDirectory))

const read = (name: string): Buffer => Fs.readFileSync(fixturePath(name))

/**
 * The certificates and keys, read once.
 *
 * @since 0.0.0
 * @category fixtures
 */
export const certs = {
  /** the test CA ("iocm TEST-ONLY CA") */
  ca: read("ca.pem"),
  /** the server certificate for `localhost`, `127.0.0.1` and `::1` */
  serverCert: read("server.pem"),
  serverKey: read("server-key.pem"),
  /** the client identity for mutual TLS ("iocm TEST-ONLY client") */
  clientCert: read("client.pem"),
  clientKey: read("client-key.pem"),
  /** the same client identity as PKCS#12, locked with `p12Passphrase` */
  clientP12: read("client.p12"),
  p12Passphrase: "iocm-test-passphrase",
  /** an unrelated CA, and a client identity it issued */
  otherCa: read("other-ca.pem"),
  otherClientCert: read("other-client.pem"),
  otherClientKey: read("other-client-key.pem"),
  /** a server certificate for `platform.example.test` only, issued by the test CA */
  mismatchCert: read("mismatch.pem"),
  mismatchKey: read("mismatch-key.pem")
} as const

/**
 * `iocm doctor`, the built bin run as a process: every step `ok` against the simulator (mutual
 * TLS), and each failure an operator meets — against servers of our own with the TEST-ONLY
 * certificates (`@iocm/testing`): an unknown CA, an expired certificate, a name mismatch (and
 * `IOCM_SERVER_NAME` curing it), a client certificate missing or refused, a server that speaks no
 * TLS or never finishes the handshake, a closed port, a host that does not resolve, wrong
 * credentials — failing at its step, with its fix, the steps after it skipped, and its exit code.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import { Certificates, Loopback, TestServer } from "@iocm/testing"
import { Effect, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fixture, iocm, type Run, simulatorEnv } from "./utils/iocm.js"

const steps = [
  "base URL",
  "TLS settings",
  "DNS",
  "TCP connect",
  "TLS handshake",
  "TLS chain",
  "host name",
  "client certificate",
  "login"
]

/** The status of each step in the report: `ok`, `FAIL` or `skipped`, by step. */
const statuses = (run: Run): Record<string, string> =>
  Object.fromEntries(
    run.stdout.split("\n").flatMap((line) => {
      const match = /^(ok|FAIL|skipped)\s+(.+?)(?:\s{2,}|$)/.exec(line)
      return match === null ? [] : [[match[2]!, match[1]!]]
    })
  )

/** The `FAIL` line and its `fix:` line. */
const failure = (run: Run): string => {
  const lines = run.stdout.split("\n")
  const at = lines.findIndex((line) => line.startsWith("FAIL"))
  return at === -1 ? "" : `${lines[at]}\n${lines[at + 1] ?? ""}`
}

/** Asserts that `run` failed at `step` with `code`, every step before it ok and every step after it skipped. */
const failedAt = (run: Run, step: string, code: number) => {
  const expected = Object.fromEntries(
    steps.map((s, i) => [s, i < steps.indexOf(step) ? "ok" : i === steps.indexOf(step) ? "FAIL" : "skipped"])
  )
  assert.deepStrictEqual(statuses(run), expected, run.stdout + run.stderr)
  assert.strictEqual(run.code, code, run.stdout + run.stderr)
  assert.match(failure(run), /\n\s+fix: \S/)
  assert.notMatch(run.stdout + run.stderr, /\n\s+at /, "no stack trace")
}

/** The variables for a scripted server that trusts and answers as the test says, no login needed. */
const serverEnv = (server: TestServer.TestServer, more: Record<string, string> = {}) => ({
  IOCM_BASE_URL: server.url,
  IOCM_APP_ID: "doctor-app",
  IOCM_SECRET: "doctor-secret",
  IOCM_CA_FILE: fixture("ca.pem"),
  ...more
})

describe("iocm doctor", () => {
  it.live("against the simulator with mutual TLS: every step ok, exit 0, no secret printed", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ tls: { mutual: true } })
      const run = yield* iocm(["doctor"], simulatorEnv(simulator))
      assert.strictEqual(run.code, 0, run.stdout + run.stderr)
      assert.deepStrictEqual(statuses(run), Object.fromEntries(steps.map((s) => [s, "ok"])))
      assert.include(run.stdout, "every check passed")
      assert.match(run.stdout, /client certificate\s+accepted: CN=iocm TEST-ONLY client/)
      assert.match(run.stderr, /^iocm doctor: logging in as iocm-demo-app: this invalidates/)
      const counters = yield* simulator.counters
      assert.strictEqual(counters.logins, 1)
      const token = Redacted.value(counters.tokens[simulator.app.appId]!.accessToken)
      assert.notInclude(run.stdout + run.stderr, token)
      assert.notInclude(run.stdout + run.stderr, Redacted.value(simulator.app.secret))
      assert.notInclude(run.stdout + run.stderr, "PRIVATE KEY")
    }).pipe(Effect.scoped))

  it.live("--skip-login: no login, the login step skipped, exit 0", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ tls: { mutual: true } })
      const run = yield* iocm(["doctor", "--skip-login"], simulatorEnv(simulator))
      assert.strictEqual(run.code, 0, run.stdout + run.stderr)
      assert.match(run.stdout, /skipped login\s+--skip-login/)
      assert.strictEqual((yield* simulator.counters).logins, 0)
      assert.strictEqual(run.stderr, "")
    }).pipe(Effect.scoped))

  it.live("wrong credentials: FAIL login, exit 4, the secret not shown", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ tls: { mutual: true } })
      const run = yield* iocm(["doctor"], { ...simulatorEnv(simulator), IOCM_SECRET: "a-wrong-secret" })
      failedAt(run, "login", 4)
      assert.include(failure(run), "InvalidCredentials (100208, HTTP 401)")
      assert.include(failure(run), "check IOCM_APP_ID and IOCM_SECRET")
      assert.notInclude(run.stdout + run.stderr, "a-wrong-secret")
    }).pipe(Effect.scoped))

  it.live("an unknown CA (or none configured): FAIL TLS chain, exit 5, naming the issuer and IOCM_CA_FILE", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make()
      const [wrongCa, noCa] = yield* Effect.all([
        iocm(["doctor"], serverEnv(server, { IOCM_CA_FILE: fixture("other-ca.pem") })),
        iocm(["doctor"], { ...serverEnv(server), IOCM_CA_FILE: "" })
      ], { concurrency: 2 })
      failedAt(wrongCa, "TLS chain", 5)
      assert.include(failure(wrongCa), "does not lead to a CA this client trusts (UNABLE_TO_VERIFY_LEAF_SIGNATURE)")
      assert.include(failure(wrongCa), "put the CA that issued it (CN=iocm TEST-ONLY CA) into IOCM_CA_FILE")
      failedAt(noCa, "TLS chain", 5)
      assert.include(failure(noCa), "IOCM_CA_FILE is not set")
      assert.strictEqual(server.requests.length, 0)
    }).pipe(Effect.scoped))

  it.live("a certificate for another name: FAIL host name; IOCM_SERVER_NAME (or --server-name) passes", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, {
        cert: Certificates.certs.mismatchCert,
        key: Certificates.certs.mismatchKey
      })
      const [mismatch, named, flagged, unchecked] = yield* Effect.all([
        iocm(["doctor"], serverEnv(server)),
        iocm(["doctor", "--skip-login"], serverEnv(server, { IOCM_SERVER_NAME: "platform.example.test" })),
        iocm(["doctor", "--skip-login", "--server-name", "platform.example.test"], serverEnv(server)),
        iocm(["doctor", "--skip-login"], serverEnv(server, { IOCM_VERIFY_HOSTNAME: "false" }))
      ], { concurrency: 4 })
      failedAt(mismatch, "host name", 5)
      assert.include(failure(mismatch), "the certificate names DNS:platform.example.test, not 127.0.0.1")
      assert.include(failure(mismatch), "set IOCM_SERVER_NAME=platform.example.test")
      for (const run of [named, flagged]) {
        assert.strictEqual(run.code, 0, run.stdout + run.stderr)
        assert.match(run.stdout, /ok\s+host name\s+the certificate names platform\.example\.test \(IOCM_SERVER_NAME\)/)
      }
      assert.strictEqual(unchecked.code, 0, unchecked.stdout + unchecked.stderr)
      assert.match(unchecked.stdout, /ok\s+host name\s+not checked: IOCM_VERIFY_HOSTNAME=false/)
    }).pipe(Effect.scoped))

  it.live("a server that requires a client certificate: none, or one from another CA: FAIL client certificate", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { mutual: true })
      const [none, other, right, pkcs12, wrongPassphrase] = yield* Effect.all([
        iocm(["doctor"], serverEnv(server)),
        iocm(
          ["doctor"],
          serverEnv(server, {
            IOCM_CERT_FILE: fixture("other-client.pem"),
            IOCM_KEY_FILE: fixture("other-client-key.pem")
          })
        ),
        iocm(
          ["doctor", "--skip-login"],
          serverEnv(server, {
            IOCM_CERT_FILE: fixture("client.pem"),
            IOCM_KEY_FILE: fixture("client-key.pem")
          })
        ),
        iocm(
          ["doctor", "--skip-login"],
          serverEnv(server, {
            IOCM_PFX_FILE: fixture("client.p12"),
            IOCM_PASSPHRASE: Certificates.certs.p12Passphrase
          })
        ),
        iocm(["doctor"], serverEnv(server, { IOCM_PFX_FILE: fixture("client.p12"), IOCM_PASSPHRASE: "not-it-at-all" }))
      ], { concurrency: 3 })
      failedAt(none, "client certificate", 5)
      assert.include(failure(none), "the server requires a client certificate, and none is configured")
      assert.include(failure(none), "set IOCM_CERT_FILE and IOCM_KEY_FILE")
      failedAt(other, "client certificate", 5)
      assert.include(failure(other), "the server refused the client certificate CN=iocm TEST-ONLY other client")
      assert.strictEqual(right.code, 0, right.stdout + right.stderr)
      assert.strictEqual(pkcs12.code, 0, pkcs12.stdout + pkcs12.stderr)
      assert.match(pkcs12.stdout, /ok\s+client certificate\s+accepted: the PKCS#12 identity of IOCM_PFX_FILE/)
      failedAt(wrongPassphrase, "TLS settings", 3)
      assert.include(failure(wrongPassphrase), "IOCM_PASSPHRASE")
      assert.notInclude(wrongPassphrase.stdout + wrongPassphrase.stderr, "not-it-at-all")
    }).pipe(Effect.scoped))

  it.live("plain http to a simulator on loopback: the TLS steps skipped, exit 0", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ protocol: "http" })
      const run = yield* iocm(["doctor"], simulatorEnv(simulator))
      assert.strictEqual(run.code, 0, run.stdout + run.stderr)
      for (const step of ["TLS handshake", "TLS chain", "host name", "client certificate"]) {
        assert.match(run.stdout, new RegExp(`skipped ${step}\\s+plain http: no TLS to check`))
      }
      assert.match(run.stdout, /ok\s+login\s+logged in as iocm-demo-app/)
    }).pipe(Effect.scoped))

  it.live("through a proxy (HTTPS_PROXY): the direct steps skipped, the login checks the path and fails with the proxy's failure", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ tls: { mutual: true } })
      const port = yield* Loopback.closedPort
      const run = yield* iocm(["doctor"], { ...simulatorEnv(simulator), HTTPS_PROXY: `http://127.0.0.1:${port}` })
      assert.match(run.stdout, /skipped DNS\s+through the proxy of HTTPS_PROXY: the login checks the whole path/)
      assert.match(run.stdout, /FAIL\s+login\s+TransportError/)
      assert.strictEqual(run.code, 5, run.stdout + run.stderr)
      assert.strictEqual((yield* simulator.counters).logins, 0)
    }).pipe(Effect.scoped))

  it.live("TLS 1.2 with a required client certificate missing: FAIL TLS handshake", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { mutual: true, maxVersion: "TLSv1.2" })
      const run = yield* iocm(["doctor"], serverEnv(server))
      failedAt(run, "TLS handshake", 5)
      assert.match(failure(run), /the server refused the TLS handshake \(ERR_SSL_\S*ALERT\S*\)/)
      assert.include(failure(run), "set IOCM_CERT_FILE and IOCM_KEY_FILE")
    }).pipe(Effect.scoped))

  it.live("no TLS on the port, or a handshake that never ends: FAIL TLS handshake, bounded by IOCM_CONNECT_TIMEOUT", () =>
    Effect.gen(function*() {
      const plain = yield* TestServer.make(TestServer.echo, { protocol: "http" })
      const silent = yield* Loopback.serve(Net.createServer(() => {}), "https")
      const [notTls, stalled] = yield* Effect.all([
        iocm(["doctor"], serverEnv(plain, { IOCM_BASE_URL: `https://127.0.0.1:${plain.port}` })),
        iocm(["doctor"], { ...serverEnv(plain), IOCM_BASE_URL: silent.url, IOCM_CONNECT_TIMEOUT: "1" })
      ], { concurrency: 2 })
      failedAt(notTls, "TLS handshake", 5)
      assert.include(failure(notTls), "does not speak TLS")
      failedAt(stalled, "TLS handshake", 5)
      assert.include(failure(stalled), "no TLS handshake with 127.0.0.1")
      assert.include(failure(stalled), "within 1s")
    }).pipe(Effect.scoped))

  it.live("a closed port: FAIL TCP connect; a host that does not resolve: FAIL DNS; both exit 5", () =>
    Effect.gen(function*() {
      const port = yield* Loopback.closedPort
      const env = { IOCM_APP_ID: "doctor-app", IOCM_SECRET: "doctor-secret", IOCM_CA_FILE: fixture("ca.pem") }
      const [closed, unresolvable] = yield* Effect.all([
        iocm(["doctor"], { ...env, IOCM_BASE_URL: `https://127.0.0.1:${port}` }),
        iocm(["doctor"], { ...env, IOCM_BASE_URL: "https://iocm-doctor.invalid:8743" })
      ], { concurrency: 2 })
      failedAt(closed, "TCP connect", 5)
      assert.include(failure(closed), `connection refused by 127.0.0.1:${port} (ECONNREFUSED)`)
      failedAt(unresolvable, "DNS", 5)
      assert.match(failure(unresolvable), /host not found: iocm-doctor\.invalid \((ENOTFOUND|EAI_AGAIN)\)/)
      assert.include(failure(unresolvable), "check the host in IOCM_BASE_URL")
    }))

  it.live("settings: no base URL, a refused one, a missing file, a key of another certificate: exit 3", () =>
    Effect.gen(function*() {
      const env = { IOCM_APP_ID: "doctor-app", IOCM_SECRET: "doctor-secret" }
      const url = { IOCM_BASE_URL: "https://127.0.0.1:8743" }
      const [unset, refused, missing, mismatched] = yield* Effect.all([
        iocm(["doctor"], env),
        iocm(["doctor"], { ...env, IOCM_BASE_URL: "http://203.0.113.10:8743" }),
        iocm(["doctor"], { ...env, ...url, IOCM_CA_FILE: "/nowhere/ca.pem" }),
        iocm(["doctor"], {
          ...env,
          ...url,
          IOCM_CERT_FILE: fixture("client.pem"),
          IOCM_KEY_FILE: fixture("other-client-key.pem")
        })
      ], { concurrency: 4 })
      failedAt(unset, "base URL", 3)
      assert.include(failure(unset), "IOCM_BASE_URL is not set")
      failedAt(refused, "base URL", 3)
      assert.include(failure(refused), "plain http is refused for 203.0.113.10:8743")
      failedAt(missing, "TLS settings", 3)
      assert.include(failure(missing), "IOCM_CA_FILE (/nowhere/ca.pem): file not found")
      failedAt(mismatched, "TLS settings", 3)
      assert.include(failure(mismatched), "IOCM_KEY_FILE")
      assert.include(failure(mismatched), "does not belong to the client certificate")
      assert.notInclude(mismatched.stdout + mismatched.stderr, "PRIVATE KEY")
    }))

  it.live.skipIf(ChildProcess.spawnSync("openssl", ["version"], { stdio: "ignore" }).status !== 0)(
    "an expired server certificate: FAIL TLS chain, told apart from an unknown CA",
    () =>
      Effect.gen(function*() {
        const { cert, key } = yield* expiredCertificate
        const server = yield* TestServer.make(TestServer.echo, { cert, key })
        const run = yield* iocm(["doctor"], serverEnv(server))
        failedAt(run, "TLS chain", 5)
        assert.include(failure(run), "(CN=localhost, issued by CN=iocm TEST-ONLY CA) expired on")
        assert.include(failure(run), "the platform must renew its certificate")
      }).pipe(Effect.scoped)
  )
})

/** A server certificate for 127.0.0.1 issued by the test CA that expired yesterday, made with openssl. */
const expiredCertificate = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "iocm-expired-"))),
  (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
).pipe(Effect.map((directory) => {
  const file = (name: string) => Path.join(directory, name)
  const openssl = (...args: Array<string>) => ChildProcess.execFileSync("openssl", args, { stdio: "ignore" })
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("key.pem"),
    "-out",
    file("csr.pem"),
    "-subj",
    "/CN=localhost"
  )
  Fs.writeFileSync(file("ext.cnf"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
  openssl(
    "x509",
    "-req",
    "-in",
    file("csr.pem"),
    "-CA",
    fixture("ca.pem"),
    "-CAkey",
    Certificates.fixturePath("ca-key.pem"),
    "-days",
    "-1",
    "-extfile",
    file("ext.cnf"),
    "-out",
    file("cert.pem")
  )
  return { cert: Fs.readFileSync(file("cert.pem")), key: Fs.readFileSync(file("key.pem")) }
}))

import { assert, describe, it } from "@effect/vitest"
import * as IocmAuth from "@iocm/core/IocmAuth"
import { certs, fixturePath } from "@iocm/testing/Certificates"
import * as Loopback from "@iocm/testing/Loopback"
import * as TestServer from "@iocm/testing/TestServer"
import type { Duration } from "effect"
import { Config, ConfigProvider, Effect, Fiber, Option, Redacted, Stream } from "effect"
import { HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "effect/http"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { IocmHttp } from "../src/index.js"
import { connectProxy, silentServer } from "./servers.js"

const getJson = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    assert.strictEqual(response.status, 200)
    return (yield* response.json) as { readonly ok: boolean; readonly client: string | null }
  })

const withLayer = (options: IocmHttp.Options) => <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
  Effect.provide(effect, IocmHttp.layer(options))

/** An `HttpClientError` whose reason is a described `TransportError`. */
type DescribedTransportError = HttpClientError.HttpClientError & {
  readonly reason: HttpClientError.TransportError & { readonly description: string }
}

/** Runs `effect` expecting an `HttpClientError` with a described `TransportError` and returns it. */
const expectTransportError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    assert(HttpClientError.isHttpClientError(error), `expected an HttpClientError, got ${String(error)}`)
    assert.strictEqual(error._tag, "HttpClientError")
    assert.strictEqual(error.reason._tag, "TransportError")
    assert.isString(error.reason.description)
    return error as DescribedTransportError
  })

/** Runs `effect` expecting the layer to fail with `IocmHttpConfigError` and returns it. */
const expectConfigError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    assert(error instanceof IocmHttp.IocmHttpConfigError, `expected IocmHttpConfigError, got ${String(error)}`)
    return error
  })

const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const result = yield* effect
    return [result, Date.now() - start] as const
  })

/** Waits (real time) until `predicate` holds, for at most two seconds. */
const eventually = (predicate: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 100 && !predicate(); i++) yield* Effect.sleep("20 millis")
    assert.isTrue(predicate())
  })

/** a line from the middle of the test client key: must never appear in an error */
const keyMaterial = certs.clientKey.toString().split("\n")[3]!

const mutualTls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }

describe("IocmHttp.layer", () => {
  describe("server verification", () => {
    it.live("trusts a server whose certificate the CA issued", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        const body = yield* getJson(`${server.url}/devices`).pipe(withLayer({ ca: certs.ca }))
        assert.isTrue(body.ok)
      }))

    it.live("accepts a CA list and a bundle of several PEM certificates", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        yield* getJson(server.url).pipe(withLayer({ ca: [certs.otherCa, certs.ca] }))
        yield* getJson(server.url).pipe(withLayer({ ca: Buffer.concat([certs.otherCa, certs.ca]).toString() }))
      }))

    it.live("refuses a server whose certificate another CA issued: certificate not trusted", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        const error = yield* expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.otherCa })))
        assert.include(error.reason.description, "certificate not trusted")
        assert.include(error.reason.description, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
        assert.include(error.message, "certificate not trusted")
      }))

    it.live("without ca, trusts only Node's roots, not the test CA", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        const error = yield* expectTransportError(getJson(server.url).pipe(withLayer({})))
        assert.include(error.reason.description, "certificate not trusted")
      }))

    it.live("refuses a certificate for another host name: the name did not match", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { cert: certs.mismatchCert, key: certs.mismatchKey })
        const error = yield* expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.ca })))
        assert.include(error.reason.description, "did not match")
        assert.include(error.reason.description, "ERR_TLS_CERT_ALTNAME_INVALID")
      }))

    it.live("verifyHostname: false accepts the mismatching certificate", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { cert: certs.mismatchCert, key: certs.mismatchKey })
        const body = yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, verifyHostname: false }))
        assert.isTrue(body.ok)
      }))

    it.live("verifyHostname: false still verifies the chain", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { cert: certs.mismatchCert, key: certs.mismatchKey })
        const error = yield* expectTransportError(
          getJson(server.url).pipe(withLayer({ ca: certs.otherCa, verifyHostname: false }))
        )
        assert.include(error.reason.description, "certificate not trusted")
      }))

    it.live("serverName checks the certificate against that name instead of the IP", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { cert: certs.mismatchCert, key: certs.mismatchKey })
        const body = yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, serverName: "platform.example.test" }))
        assert.isTrue(body.ok)
        const error = yield* expectTransportError(
          getJson(server.url).pipe(withLayer({ ca: certs.ca, serverName: "other.example.test" }))
        )
        assert.include(error.reason.description, "did not match")
      }))

    it.live("minVersion TLSv1.3 still connects to a TLS 1.3 server", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, minVersion: "TLSv1.3" }))
      }))
  })

  describe("mutual TLS", () => {
    it.live("presents the client certificate (PEM)", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        const body = yield* getJson(server.url).pipe(withLayer(mutualTls))
        assert.strictEqual(body.client, "iocm TEST-ONLY client")
      }))

    it.live("accepts the key as Redacted", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        yield* getJson(server.url).pipe(withLayer({ ...mutualTls, key: Redacted.make(certs.clientKey) }))
      }))

    it.live("is refused without a client certificate", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        const error = yield* expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.ca })))
        assert.match(error.reason.description, /closed by the server|refused the TLS handshake/)
        assert.strictEqual(server.requests.length, 0)
      }))

    it.live("is refused with a client certificate from another CA", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        const error = yield* expectTransportError(
          getJson(server.url).pipe(
            withLayer({ ca: certs.ca, cert: certs.otherClientCert, key: certs.otherClientKey })
          )
        )
        assert.match(error.reason.description, /closed by the server|refused the TLS handshake/)
        assert.strictEqual(server.requests.length, 0)
      }))

    it.live("over TLS 1.2 the refusal names the handshake alert", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true, maxVersion: "TLSv1.2" })
        const error = yield* expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.ca })))
        assert.include(error.reason.description, "refused the TLS handshake")
        assert.include(error.reason.description, "ALERT")
      }))

    it.live("presents a PKCS#12 identity with the right passphrase", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        const body = yield* getJson(server.url).pipe(
          withLayer({ ca: certs.ca, pfx: certs.clientP12, passphrase: Redacted.make(certs.p12Passphrase) })
        )
        assert.strictEqual(body.client, "iocm TEST-ONLY client")
      }))

    it.effect("fails at construction with a wrong PKCS#12 passphrase, without repeating it", () =>
      Effect.gen(function*() {
        const error = yield* expectConfigError(
          getJson("https://127.0.0.1:1").pipe(
            withLayer({ ca: certs.ca, pfx: certs.clientP12, passphrase: Redacted.make("not-the-passphrase") })
          )
        )
        assert.strictEqual(error.option, "passphrase")
        assert.include(error.message, "wrong passphrase")
        assert.notInclude(error.message, "not-the-passphrase")
        assert.notInclude(JSON.stringify(error), "not-the-passphrase")
      }))

    it.effect("fails at construction with a PKCS#12 file and no passphrase", () =>
      Effect.gen(function*() {
        const error = yield* expectConfigError(
          getJson("https://127.0.0.1:1").pipe(withLayer({ ca: certs.ca, pfx: certs.clientP12 }))
        )
        assert.strictEqual(error.option, "passphrase")
      }))

    it.effect("fails at construction with something that is not PKCS#12", () =>
      Effect.gen(function*() {
        const error = yield* expectConfigError(
          getJson("https://127.0.0.1:1").pipe(
            withLayer({ pfx: certs.clientCert, passphrase: Redacted.make(certs.p12Passphrase) })
          )
        )
        assert.strictEqual(error.option, "pfx")
        assert.include(error.reason, "PKCS#12")
      }))

    it.effect("explains a PKCS#12 file with a legacy cipher that OpenSSL 3 cannot read", () =>
      Effect.gen(function*() {
        const legacy = Fs.readFileSync(new URL("fixtures/legacy-rc2.p12", import.meta.url))
        const error = yield* expectConfigError(
          getJson("https://127.0.0.1:1").pipe(
            withLayer({ pfx: legacy, passphrase: Redacted.make(certs.p12Passphrase) })
          )
        )
        assert.strictEqual(error.option, "pfx")
        assert.include(error.reason, "legacy cipher")
        assert.include(error.reason, "openssl pkcs12 -legacy")
      }))

    it.live("accepts an encrypted PEM key with its passphrase, and fails early on a wrong one", () =>
      Effect.gen(function*() {
        const encrypted = Crypto.createPrivateKey(certs.clientKey).export({
          format: "pem",
          type: "pkcs8",
          cipher: "aes-256-cbc",
          passphrase: "key-secret"
        })
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        const options = { ca: certs.ca, cert: certs.clientCert, key: Redacted.make(encrypted) }
        yield* getJson(server.url).pipe(withLayer({ ...options, passphrase: Redacted.make("key-secret") }))
        const wrong = yield* expectConfigError(
          getJson(server.url).pipe(withLayer({ ...options, passphrase: Redacted.make("guess") }))
        )
        assert.strictEqual(wrong.option, "passphrase")
        assert.notInclude(wrong.message, "guess")
        const missing = yield* expectConfigError(getJson(server.url).pipe(withLayer(options)))
        assert.strictEqual(missing.option, "passphrase")
        assert.strictEqual(server.connections, 1)
      }))
  })

  describe("option validation", () => {
    const fails = (options: IocmHttp.Options, option: IocmHttp.ConfigOption, reason?: RegExp) =>
      Effect.gen(function*() {
        const error = yield* expectConfigError(getJson("https://127.0.0.1:1").pipe(withLayer(options)))
        assert.strictEqual(error.option, option)
        if (reason) assert.match(error.reason, reason)
        assert.notInclude(error.message, keyMaterial)
        return error
      })

    it.effect("a CA that is not PEM", () => fails({ ca: "not a certificate" }, "ca", /no PEM certificate/))
    it.effect("a corrupt PEM CA", () =>
      fails({ ca: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }, "ca", /not a valid/))
    it.effect("the bad entry of a CA list is named", () => fails({ ca: [certs.ca, "nope"] }, "ca", /entry 2/))
    it.effect("an empty CA list", () => fails({ ca: [] }, "ca"))
    it.effect("a certificate that is not PEM", () =>
      fails({ cert: "nope", key: certs.clientKey }, "cert", /not a valid PEM certificate/))
    it.effect("a key that is not PEM", () =>
      fails({ cert: certs.clientCert, key: "nope" }, "key", /not a valid PEM private key/))
    it.effect("a key that does not belong to the certificate", () =>
      fails({ cert: certs.clientCert, key: certs.otherClientKey }, "key", /does not belong/))
    it.effect("a certificate without its key", () => fails({ cert: certs.clientCert }, "key"))
    it.effect("a key without its certificate", () => fails({ key: certs.clientKey }, "cert"))
    it.effect("both pfx and cert", () =>
      fails({ ...mutualTls, pfx: certs.clientP12, passphrase: Redacted.make(certs.p12Passphrase) }, "pfx"))
    it.effect("verifyHostname: false without a ca of its own", () =>
      fails({ verifyHostname: false }, "verifyHostname", /needs ca/))
    it.effect("a timeout that is not a positive duration", () =>
      fails({ timeout: "soon" as Duration.Input }, "timeout", /positive, finite duration/))
    it.effect("a zero connect timeout", () => fails({ connectTimeout: 0 }, "connectTimeout"))
    it.effect("a pool of zero connections", () => fails({ connections: 0 }, "connections"))
    it.effect("a proxy URL that is not http(s), without repeating its credentials", () =>
      Effect.gen(function*() {
        const error = yield* fails({ proxy: "socks5://user:hunter2@proxy:1080" }, "proxy")
        assert.notInclude(error.message, "hunter2")
      }))
  })

  describe("timeouts", () => {
    it.live("abandons a request that gets no answer, as a transport error", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.stall)
        const [error, millis] = yield* elapsed(
          expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.ca, timeout: "300 millis" })))
        )
        assert.include(error.reason.description, "timed out")
        assert.include(error.reason.description, "300ms")
        assert.isAtLeast(millis, 290)
        assert.isBelow(millis, 3000)
        // the request was really abandoned: the server saw the connection go
        yield* eventually(() => server.abandoned === 1)
      }))

    it.live("inside a login or refresh bounded no later (IocmAuth.CallDeadline), a request has no timer of its own", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.stall)
        // The call's own bound (here 1 s of Effect.timeout) is the only one: the 300 ms deadline stays off.
        const outcome = yield* getJson(server.url).pipe(
          Effect.provideService(IocmAuth.CallDeadline, Date.now() + 100),
          Effect.timeoutOption("1 second"),
          withLayer({ ca: certs.ca, timeout: "300 millis" })
        )
        assert.isTrue(Option.isNone(outcome), "bounded by the call, not by the request's deadline")
        yield* eventually(() => server.abandoned === 1)
      }))

    it.live("a call bounded later than the request keeps the request's deadline", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.stall)
        const error = yield* expectTransportError(
          getJson(server.url).pipe(
            Effect.provideService(IocmAuth.CallDeadline, Date.now() + 60_000),
            withLayer({ ca: certs.ca, timeout: "300 millis" })
          )
        )
        assert.include(error.reason.description, "request timed out: no complete answer within 300ms")
      }))

    it.live("interrupting the request aborts it on the wire", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.stall)
        yield* Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(getJson(server.url))
          yield* eventually(() => server.requests.length === 1)
          yield* Fiber.interrupt(fiber)
          yield* eventually(() => server.abandoned === 1)
        }).pipe(withLayer({ ca: certs.ca }))
      }))

    it.live("gives up connecting after the connect timeout", () =>
      Effect.gen(function*() {
        const server = yield* silentServer
        const [error, millis] = yield* elapsed(
          expectTransportError(
            getJson(server.url).pipe(withLayer({ ca: certs.ca, connectTimeout: "300 millis", timeout: "5 seconds" }))
          )
        )
        assert.include(error.reason.description, "connect timed out")
        assert.include(error.reason.description, "UND_ERR_CONNECT_TIMEOUT")
        assert.isBelow(millis, 3000)
      }))

    it.live("the request timeout covers connecting too", () =>
      Effect.gen(function*() {
        const server = yield* silentServer
        const error = yield* expectTransportError(
          getJson(server.url).pipe(withLayer({ ca: certs.ca, timeout: "300 millis" }))
        )
        assert.include(error.reason.description, "request timed out: no complete answer within 300ms")
      }))

    /** How reading the body of `url` fails, as text and as a stream, with `timeout`. */
    const bodyFailures = (url: string, timeout: Duration.Input) => {
      const read = <A>(
        body: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, HttpClientError.HttpClientError>
      ) =>
        Effect.gen(function*() {
          const response = yield* (yield* HttpClient.HttpClient).get(url)
          return yield* Effect.flip(body(response))
        }).pipe(withLayer({ ca: certs.ca, timeout }))
      return Effect.all([read((response) => response.text), read((response) => Stream.runDrain(response.stream))])
    }

    it.live("the timeout covers the whole body: one that trickles in is abandoned on the wire", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.trickle(50))
        const started = Date.now()
        const errors = yield* bodyFailures(server.url, "500 millis")
        for (const error of errors) {
          assert.strictEqual(error.reason._tag, "DecodeError")
          assert.include(error.reason.description ?? "", "request timed out: no complete answer within 500ms")
        }
        assert.isBelow(Date.now() - started, 3000)
        yield* eventually(() => server.abandoned === 2)
      }))

    it.live("a response body that stalls fails at the request's deadline", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.stallBody)
        for (const error of yield* bodyFailures(server.url, "300 millis")) {
          assert.strictEqual(error.reason._tag, "DecodeError")
          assert.include(error.reason.description ?? "", "request timed out: no complete answer within 300ms")
        }
        yield* eventually(() => server.abandoned === 2)
      }))

    it.live("a response whose body nobody reads is abandoned on the wire at the deadline, even one that trickles", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.trickle(50))
        yield* Effect.gen(function*() {
          const response = yield* (yield* HttpClient.HttpClient).get(server.url)
          assert.strictEqual(response.status, 200)
          yield* eventually(() => server.abandoned === 1)
          const error = yield* Effect.flip(response.text)
          assert.strictEqual(error.reason._tag, "DecodeError")
          assert.include(error.reason.description ?? "", "no complete answer within 300ms")
        }).pipe(withLayer({ ca: certs.ca, timeout: "300 millis" }))
      }))

    it.live("a slow answer within the timeout succeeds", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.delayed(100, TestServer.echo))
        yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, timeout: "2 seconds" }))
      }))
  })

  describe("connection errors name host:port", () => {
    it.live("a closed port: connection refused by host:port", () =>
      Effect.gen(function*() {
        const port = yield* Loopback.closedPort
        const error = yield* expectTransportError(
          getJson(`https://127.0.0.1:${port}/`).pipe(withLayer({ ca: certs.ca }))
        )
        assert.include(error.reason.description, `connection refused by 127.0.0.1:${port} (ECONNREFUSED)`)
      }))

    it.live("an unresolvable host: host not found, with the port", () =>
      Effect.gen(function*() {
        const error = yield* expectTransportError(getJson("https://nonexistent.invalid/").pipe(withLayer({})))
        assert.include(error.reason.description, "host not found: nonexistent.invalid:443")
      }))

    it.live("a connect timeout, an untrusted certificate and a refused client name the server", () =>
      Effect.gen(function*() {
        const silent = yield* silentServer
        const slow = yield* expectTransportError(
          getJson(silent.url).pipe(withLayer({ ca: certs.ca, connectTimeout: "300 millis" }))
        )
        assert.include(slow.reason.description, `no connection to 127.0.0.1:${silent.port}`)
        const server = yield* TestServer.make()
        const untrusted = yield* expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.otherCa })))
        assert.include(untrusted.reason.description, `at 127.0.0.1:${server.port}`)
        const mutual = yield* TestServer.make(TestServer.echo, { mutual: true })
        const refused = yield* expectTransportError(getJson(mutual.url).pipe(withLayer({ ca: certs.ca })))
        assert.include(refused.reason.description, `127.0.0.1:${mutual.port}`)
      }))

    it.live("layerFetch names it too", () =>
      Effect.gen(function*() {
        const port = yield* Loopback.closedPort
        const error = yield* expectTransportError(
          getJson(`http://127.0.0.1:${port}/`).pipe(Effect.provide(IocmHttp.layerFetch))
        )
        assert.include(error.reason.description, `connection refused by 127.0.0.1:${port}`)
      }))
  })

  describe("the request body stays out of errors", () => {
    const secret = "login-secret-4f9a"
    const postSecret = (url: string) =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const response = yield* client.execute(
          HttpClientRequest.post(url).pipe(HttpClientRequest.bodyJsonUnsafe({ appId: "app", secret }))
        )
        return yield* response.text
      })
    const assertNoSecret = (error: HttpClientError.HttpClientError) => {
      for (const form of [error, error.cause ?? null, error.response ?? null]) {
        assert.notInclude(JSON.stringify(form), secret)
      }
      assert.notInclude(String(error), secret)
    }

    it.live("in their JSON form, their cause's and their response's", () =>
      Effect.gen(function*() {
        const port = yield* Loopback.closedPort
        const stalled = yield* TestServer.make(TestServer.stall)
        const stalledBody = yield* TestServer.make(TestServer.stallBody)
        const mutual = yield* TestServer.make(TestServer.echo, { mutual: true })
        yield* Effect.gen(function*() {
          for (const url of [`https://127.0.0.1:${port}/`, stalled.url, stalledBody.url, mutual.url]) {
            assertNoSecret(yield* Effect.flip(postSecret(url)))
          }
        }).pipe(withLayer({ ca: certs.ca, timeout: "300 millis" }))
      }))
  })

  describe("connection pool", () => {
    it.live("reuses one keep-alive connection for sequential requests", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        yield* Effect.gen(function*() {
          for (let i = 0; i < 5; i++) {
            yield* getJson(`${server.url}/devices?i=${i}`)
            yield* Effect.sleep("5 millis")
          }
        }).pipe(withLayer(mutualTls))
        assert.strictEqual(server.requests.length, 5)
        assert.strictEqual(server.connections, 1)
      }))

    it.live("back-to-back requests share at most two connections", () =>
      Effect.gen(function*() {
        // undici opens a second connection once when a request is sent in the very tick the previous body
        // ended (the first connection is not idle yet); from then on both are reused
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        yield* Effect.gen(function*() {
          for (let i = 0; i < 10; i++) yield* getJson(`${server.url}/devices?i=${i}`)
        }).pipe(withLayer(mutualTls))
        assert.strictEqual(server.requests.length, 10)
        assert.isAtMost(server.connections, 2)
      }))

    it.live("opens no more connections than the pool allows", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.delayed(50, TestServer.echo))
        yield* Effect.all(Array.from({ length: 6 }, () => getJson(server.url)), { concurrency: "unbounded" }).pipe(
          withLayer({ ca: certs.ca, connections: 2 })
        )
        assert.strictEqual(server.requests.length, 6)
        assert.strictEqual(server.connections, 2)
      }))

    it.live("closes idle connections after keepAliveTimeout", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        yield* Effect.gen(function*() {
          yield* getJson(server.url)
          yield* Effect.sleep("300 millis")
          yield* getJson(server.url)
        }).pipe(withLayer({ ca: certs.ca, keepAliveTimeout: "100 millis" }))
        assert.strictEqual(server.connections, 2)
      }))
  })

  describe("proxy", () => {
    it.live("tunnels HTTPS through the proxy with CONNECT, verified end to end", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { mutual: true })
        const proxy = yield* connectProxy()
        yield* Effect.gen(function*() {
          const body = yield* getJson(server.url)
          assert.strictEqual(body.client, "iocm TEST-ONLY client")
          yield* Effect.sleep("5 millis")
          yield* getJson(server.url)
        }).pipe(withLayer({ ...mutualTls, proxy: proxy.url }))
        assert.strictEqual(proxy.tunnels(), 1)
        assert.deepStrictEqual(proxy.targets, [`127.0.0.1:${server.port}`])
        assert.strictEqual(server.requests.length, 2)
      }))

    it.live("still refuses an untrusted server behind the proxy", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        const proxy = yield* connectProxy()
        const error = yield* expectTransportError(
          getJson(server.url).pipe(withLayer({ ca: certs.otherCa, proxy: proxy.url }))
        )
        assert.include(error.reason.description, "certificate not trusted")
        assert.strictEqual(proxy.tunnels(), 1)
      }))

    it.live("still checks the host name behind the proxy", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make(TestServer.echo, { cert: certs.mismatchCert, key: certs.mismatchKey })
        const proxy = yield* connectProxy()
        const error = yield* expectTransportError(
          getJson(server.url).pipe(withLayer({ ca: certs.ca, proxy: proxy.url }))
        )
        assert.include(error.reason.description, "did not match")
        yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, proxy: proxy.url, verifyHostname: false }))
      }))

    it.live("bypasses the proxy for hosts in noProxy", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        const proxy = yield* connectProxy()
        yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, proxy: proxy.url, noProxy: "localhost, 127.0.0.1" }))
        yield* getJson(server.url).pipe(
          withLayer({ ca: certs.ca, proxy: proxy.url, noProxy: `127.0.0.1:${server.port}` })
        )
        assert.strictEqual(proxy.tunnels(), 0)
        yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, proxy: proxy.url, noProxy: "127.0.0.1:1" }))
        assert.strictEqual(proxy.tunnels(), 1)
      }))

    it.live("sends the proxy credentials from the URL and never repeats them in errors", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.make()
        const auth = `Basic ${Buffer.from("na:s3cret").toString("base64")}`
        const proxy = yield* connectProxy({ auth })
        const withCredentials = proxy.url.replace("http://", "http://na:s3cret@")
        yield* getJson(server.url).pipe(withLayer({ ca: certs.ca, proxy: Redacted.make(withCredentials) }))
        assert.strictEqual(proxy.tunnels(), 1)
        const wrong = proxy.url.replace("http://", "http://na:wrong-s3cret@")
        const error = yield* expectTransportError(getJson(server.url).pipe(withLayer({ ca: certs.ca, proxy: wrong })))
        assert.include(error.reason.description, "proxy refused")
        assert.include(error.reason.description, "407")
        assert.notInclude(error.message, "wrong-s3cret")
      }))
  })
})

describe("IocmHttp.layerConfig", () => {
  const withConfig = (entries: Record<string, string>) => <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
    effect.pipe(
      Effect.provide(IocmHttp.layerConfig()),
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: entries }))
    )

  const pem = {
    IOCM_CA_FILE: fixturePath("ca.pem"),
    IOCM_CERT_FILE: fixturePath("client.pem"),
    IOCM_KEY_FILE: fixturePath("client-key.pem")
  }

  it.live("reads the CA, certificate and key files", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { mutual: true })
      const body = yield* getJson(server.url).pipe(withConfig(pem))
      assert.strictEqual(body.client, "iocm TEST-ONLY client")
    }))

  it.live("reads a PKCS#12 file and its passphrase", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { mutual: true })
      const body = yield* getJson(server.url).pipe(withConfig({
        IOCM_CA_FILE: fixturePath("ca.pem"),
        IOCM_PFX_FILE: fixturePath("client.p12"),
        IOCM_PASSPHRASE: certs.p12Passphrase
      }))
      assert.strictEqual(body.client, "iocm TEST-ONLY client")
    }))

  it.live("reads several CA files, comma separated", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make()
      yield* getJson(server.url).pipe(
        withConfig({ IOCM_CA_FILE: `${fixturePath("other-ca.pem")}, ${fixturePath("ca.pem")}` })
      )
    }))

  /** Runs `effect` expecting the layer to fail with a `ConfigError` and returns its message. */
  const expectConfigSourceError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(effect)
      assert.strictEqual((error as { readonly _tag?: unknown })._tag, "ConfigError", String(error))
      return String(error)
    })

  it.effect("a missing file is a ConfigError naming the variable and the file", () =>
    Effect.gen(function*() {
      const message = yield* expectConfigSourceError(
        getJson("https://127.0.0.1:1").pipe(withConfig({ ...pem, IOCM_CA_FILE: "/nonexistent/ca.pem" }))
      )
      assert.include(message, "IOCM_CA_FILE (/nonexistent/ca.pem): file not found")
    }))

  it.effect("a directory instead of a file", () =>
    Effect.gen(function*() {
      const message = yield* expectConfigSourceError(
        getJson("https://127.0.0.1:1").pipe(withConfig({ ...pem, IOCM_KEY_FILE: fixturePath("") }))
      )
      assert.include(message, "IOCM_KEY_FILE")
      assert.include(message, "directory")
    }))

  it.effect("a file that is not a PEM CA names the variable", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        getJson("https://127.0.0.1:1").pipe(withConfig({ ...pem, IOCM_CA_FILE: fixturePath("README.md") }))
      )
      assert.strictEqual(error.variable, "IOCM_CA_FILE")
      assert.strictEqual(error.path, fixturePath("README.md"))
      assert.include(error.reason, "no PEM certificate")
    }))

  it.effect("a key file that is not a PEM key names the variable", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        getJson("https://127.0.0.1:1").pipe(withConfig({ ...pem, IOCM_KEY_FILE: fixturePath("ca.pem") }))
      )
      assert.strictEqual(error.variable, "IOCM_KEY_FILE")
      assert.include(error.reason, "not a valid PEM private key")
      assert.notInclude(error.message, "BEGIN CERTIFICATE")
    }))

  it.effect("a key file that belongs to another certificate", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        getJson("https://127.0.0.1:1").pipe(withConfig({ ...pem, IOCM_KEY_FILE: fixturePath("other-client-key.pem") }))
      )
      assert.strictEqual(error.variable, "IOCM_KEY_FILE")
      assert.include(error.reason, "does not belong")
    }))

  it.effect("a wrong passphrase names IOCM_PASSPHRASE and the file, never the passphrase", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        getJson("https://127.0.0.1:1").pipe(withConfig({
          IOCM_PFX_FILE: fixturePath("client.p12"),
          IOCM_PASSPHRASE: "letmein-42"
        }))
      )
      assert.strictEqual(error.variable, "IOCM_PASSPHRASE")
      assert.strictEqual(error.path, fixturePath("client.p12"))
      assert.include(error.message, "wrong passphrase")
      assert.notInclude(error.message, "letmein-42")
      assert.notInclude(String(error), "letmein-42")
      assert.notInclude(JSON.stringify(error), "letmein-42")
    }))

  it.effect("a PKCS#12 file and a certificate at once", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        getJson("https://127.0.0.1:1").pipe(withConfig({
          ...pem,
          IOCM_PFX_FILE: fixturePath("client.p12"),
          IOCM_PASSPHRASE: certs.p12Passphrase
        }))
      )
      assert.strictEqual(error.variable, "IOCM_PFX_FILE")
    }))

  it.effect("a timeout that is not a duration is a ConfigError saying which format is expected", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getJson("https://127.0.0.1:1").pipe(withConfig({ IOCM_TIMEOUT: "soon" })))
      assert.strictEqual(error._tag, "ConfigError" as string)
      assert.include(
        String(error),
        "IOCM_TIMEOUT: expected a duration such as \"30 seconds\" or a number of seconds, got \"soon\""
      )
    }))

  it.live("IOCM_TIMEOUT bounds a stalled request", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.stall)
      const error = yield* expectTransportError(
        getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: fixturePath("ca.pem"), IOCM_TIMEOUT: "300 millis" }))
      )
      assert.include(error.reason.description, "no complete answer within 300ms")
    }))

  it.live("a bare number is seconds: IOCM_TIMEOUT=0.3, IOCM_CONNECT_TIMEOUT=5", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.stall)
      const ca = fixturePath("ca.pem")
      const error = yield* expectTransportError(
        getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: ca, IOCM_TIMEOUT: "0.3", IOCM_CONNECT_TIMEOUT: "5" }))
      )
      assert.include(error.reason.description, "no complete answer within 300ms")
    }))

  it.live("the caller may name its own variables, one Config per option", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.stall)
      const error = yield* expectTransportError(
        getJson(server.url).pipe(
          Effect.provide(
            IocmHttp.layerConfig({ ca: Config.succeed(certs.ca), timeout: Config.Duration("MY_TIMEOUT") })
          ),
          Effect.provideService(
            ConfigProvider.ConfigProvider,
            ConfigProvider.fromEnv({ env: { MY_TIMEOUT: "300 millis", IOCM_TIMEOUT: "5 seconds" } })
          )
        )
      )
      assert.include(error.reason.description, "no complete answer within 300ms")
    }))

  it.effect("an error about a caller's option names the option, not an IOCM_ variable", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        Effect.provide(Effect.void, IocmHttp.layerConfig({ ca: Config.succeed("not a certificate") }))
      )
      assert.strictEqual(error.option, "ca")
      assert.isUndefined(error.variable)
      assert.include(error.message, "option ca")
    }))

  it.live("envConfig is the default", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { mutual: true })
      const body = yield* getJson(server.url).pipe(
        Effect.provide(IocmHttp.layerConfig(IocmHttp.envConfig)),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: pem }))
      )
      assert.strictEqual(body.client, "iocm TEST-ONLY client")
    }))

  it.live("IOCM_VERIFY_HOSTNAME=false skips only the name check", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { cert: certs.mismatchCert, key: certs.mismatchKey })
      yield* expectTransportError(getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: fixturePath("ca.pem") })))
      for (const off of ["false", "FALSE", " no ", "0"]) {
        yield* getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: fixturePath("ca.pem"), IOCM_VERIFY_HOSTNAME: off }))
      }
      yield* expectTransportError(
        getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: fixturePath("ca.pem"), IOCM_VERIFY_HOSTNAME: "TRUE" }))
      )
      const error = yield* expectTransportError(
        getJson(server.url).pipe(
          withConfig({ IOCM_CA_FILE: fixturePath("other-ca.pem"), IOCM_VERIFY_HOSTNAME: "false" })
        )
      )
      assert.include(error.reason.description, "certificate not trusted")
    }))

  it.effect("IOCM_VERIFY_HOSTNAME that is not a boolean is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(Effect.void, IocmHttp.layerConfig()).pipe(
          Effect.provideService(
            ConfigProvider.ConfigProvider,
            ConfigProvider.fromEnv({ env: { IOCM_VERIFY_HOSTNAME: "maybe" } })
          )
        )
      )
      assert.include(String(error), "IOCM_VERIFY_HOSTNAME")
    }))

  it.live("HTTPS_PROXY and NO_PROXY", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make()
      const proxy = yield* connectProxy()
      const ca = fixturePath("ca.pem")
      yield* getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: ca, HTTPS_PROXY: proxy.url }))
      assert.strictEqual(proxy.tunnels(), 1)
      yield* getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: ca, HTTPS_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }))
      assert.strictEqual(proxy.tunnels(), 1)
      yield* getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: ca, https_proxy: proxy.url }))
      assert.strictEqual(proxy.tunnels(), 2)
      yield* getJson(server.url).pipe(withConfig({ IOCM_CA_FILE: ca, HTTPS_PROXY: "" }))
      assert.strictEqual(proxy.tunnels(), 2)
    }))

  it.effect("a bad HTTPS_PROXY names the variable", () =>
    Effect.gen(function*() {
      const error = yield* expectConfigError(
        getJson("https://127.0.0.1:1").pipe(withConfig({ HTTPS_PROXY: "not a url" }))
      )
      assert.strictEqual(error.variable, "HTTPS_PROXY")
    }))
})

describe("IocmHttp.layerFetch", () => {
  const withFetch = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
    Effect.provide(effect, IocmHttp.layerFetch)

  it.live("performs requests with fetch", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.echo, { protocol: "http" })
      const body = yield* getJson(server.url).pipe(withFetch)
      assert.isTrue(body.ok)
    }))

  it.live("describes an untrusted certificate the same way", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make()
      const error = yield* expectTransportError(getJson(server.url).pipe(withFetch))
      assert.include(error.reason.description, "certificate not trusted")
    }))

  it.live("withTimeout abandons a stalled request as a transport error", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make(TestServer.stall, { protocol: "http" })
      const error = yield* expectTransportError(
        Effect.gen(function*() {
          const client = (yield* HttpClient.HttpClient).pipe(IocmHttp.withTimeout("300 millis"))
          return yield* client.get(server.url)
        }).pipe(withFetch)
      )
      assert.include(error.reason.description, "request timed out: no complete answer within 300ms")
      yield* eventually(() => server.abandoned === 1)
    }))
})

describe("IocmHttp.withTimeout", () => {
  /** Answers at once with headers, and a body that never comes. */
  const headersOnly = HttpClient.make((request) =>
    Effect.succeed(HttpClientResponse.fromWeb(request, new Response(new ReadableStream())))
  ).pipe(IocmHttp.withTimeout("200 millis"))

  it.live("one deadline covers the wait for the headers", () =>
    Effect.gen(function*() {
      const client = HttpClient.make(() => Effect.never).pipe(IocmHttp.withTimeout("200 millis"))
      const [error, millis] = yield* elapsed(Effect.flip(client.get("http://127.0.0.1:1/")))
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.strictEqual(error.reason.description, "request timed out: no complete answer within 200ms")
      assert.isAtLeast(millis, 190)
      assert.isBelow(millis, 2000)
    }))

  it.live("and the body: a read gets what is left of it", () =>
    Effect.gen(function*() {
      const response = yield* headersOnly.get("http://127.0.0.1:1/")
      yield* Effect.sleep("100 millis")
      const [error, millis] = yield* elapsed(Effect.flip(response.text))
      assert.strictEqual(error.reason._tag, "DecodeError")
      assert.strictEqual(error.reason.description, "request timed out: no complete answer within 200ms")
      assert.isAtLeast(millis, 50)
      assert.isBelow(millis, 190)
    }))

  it.live("a body read after the deadline fails at once, as a stream too", () =>
    Effect.gen(function*() {
      const response = yield* headersOnly.get("http://127.0.0.1:1/")
      yield* Effect.sleep("250 millis")
      const [error, millis] = yield* elapsed(Effect.flip(Stream.runDrain(response.stream)))
      assert.strictEqual(error.reason._tag, "DecodeError")
      assert.strictEqual(error.reason.description, "request timed out: no complete answer within 200ms")
      assert.isBelow(millis, 100)
    }))
})

describe("redirects", () => {
  const postThroughRedirect = Effect.gen(function*() {
    const target = yield* TestServer.make(TestServer.echo, { protocol: "http" })
    const redirecting = yield* TestServer.make(TestServer.redirect(307, target.url), { protocol: "http" })
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.post(redirecting.url).pipe(HttpClientRequest.bodyText("secret=s3cr3t"))
    )
    assert.strictEqual(response.status, 307)
    assert.strictEqual(target.requests.length, 0)
  })

  it.live("layer does not follow them, so a request body never travels to another address", () =>
    postThroughRedirect.pipe(Effect.provide(IocmHttp.layer({}))))

  it.live("layerFetch does not follow them either", () => postThroughRedirect.pipe(Effect.provide(IocmHttp.layerFetch)))
})

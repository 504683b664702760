/**
 * What several figures share: an in-memory `IocmAuth`, a quiet logger, the TEST-ONLY TLS
 * fixtures, and token sets built by hand.
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import { TokenSet } from "@iocm/core/TokenSet"
import * as Simulator from "@iocm/simulator/Simulator"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Path from "node:path"

/**
 * No log output: `TokenService` logs one line per refresh, which would otherwise go to the
 * console (10 000 of them in the memory figure). Applies to fibers forked below it too.
 */
export const quiet: Layer.Layer<never> = Logger.layer([])

/** The TEST-ONLY certificates of the simulator. */
export interface Pems {
  readonly ca: string
  readonly serverCert: string
  readonly serverKey: string
  readonly clientCert: string
  readonly clientKey: string
}

/** Reads the committed TEST-ONLY fixtures. */
export const readPems = (): Pems => {
  const read = (name: string) => Fs.readFileSync(Path.join(Simulator.fixturesDirectory, name), "utf8")
  return {
    ca: read("ca.pem"),
    serverCert: read("server.pem"),
    serverKey: read("server-key.pem"),
    clientCert: read("client.pem"),
    clientKey: read("client-key.pem")
  }
}

/**
 * A token set as the platform issues it (1 hour, refresh token valid 30 days), built the way
 * `IocmAuth` builds one from a decoded answer: without running the fields' checks again.
 */
export const tokenSet = (options: {
  readonly accessToken: string
  readonly refreshToken: string
  readonly issuedAt: number
  readonly expiresIn?: number | undefined
}): TokenSet =>
  new TokenSet({
    accessToken: Redacted.make(options.accessToken),
    refreshToken: Option.some(Redacted.make(options.refreshToken)),
    tokenType: "bearer",
    scope: "default",
    expiresIn: options.expiresIn ?? 3600,
    issuedAt: options.issuedAt,
    refreshTokenLifetimeMillis: 30 * 24 * 3600 * 1000
  }, { disableChecks: true })

/** An in-memory `IocmAuth` answering at once with fresh 1-hour tokens, counting its calls. */
export interface FakeAuth {
  readonly layer: Layer.Layer<IocmAuth.IocmAuth>
  readonly calls: () => number
}

/** Builds a {@link FakeAuth}. */
export const makeFakeAuth = (): FakeAuth => {
  let calls = 0
  const issue = Effect.map(Clock.currentTimeMillis, (issuedAt) => {
    calls++
    return tokenSet({ accessToken: `at-${calls}`, refreshToken: `rt-${calls}`, issuedAt })
  })
  const service: IocmAuth.Service = {
    login: issue,
    refresh: () => issue
  }
  return { layer: Layer.succeed(IocmAuth.IocmAuth, service), calls: () => calls }
}

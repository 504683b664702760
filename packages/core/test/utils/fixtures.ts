/**
 * Values and layers shared by the protocol tests: the app, the captured token body, and `IocmAuth`
 * over fetch trusting the test CA, for a `TestServer`.
 */
import * as TestServer from "@iocm/testing/TestServer"
import * as Tokens from "@iocm/testing/Tokens"
import { Layer, Redacted } from "effect"
import * as IocmAuth from "../../src/IocmAuth.js"
import * as PlatformConfig from "../../src/PlatformConfig.js"

export const appId = "test-app-id"
export const secret = "S3cr3t-value-9f8e7d"

/** The real captured success body. */
export const capturedSuccess = Tokens.capturedBody
export const { accessToken, refreshToken } = capturedSuccess

/** Every secret or token value a test uses: none may appear in an error or a printed token set. */
export const allSecrets = [secret, accessToken, refreshToken]

export const authLayer = (
  baseUrl: string,
  overrides: Partial<PlatformConfig.Options> = {}
): Layer.Layer<IocmAuth.IocmAuth> =>
  IocmAuth.layer.pipe(
    Layer.provide(PlatformConfig.layer({ baseUrl, appId, secret: Redacted.make(secret), ...overrides })),
    Layer.provide(TestServer.layerClient),
    Layer.orDie
  )

/** Asserts that no secret or token occurs in `text`. */
export const containsNoSecret = (text: string): boolean => allSecrets.every((s) => !text.includes(s))

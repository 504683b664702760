/**
 * Values and layers shared by the protocol tests. The bodies are the real captured ones from
 * `platform-notes.md`.
 */
import { Layer, Redacted } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as IocmAuth from "../../src/IocmAuth.js"
import * as PlatformConfig from "../../src/PlatformConfig.js"

export const appId = "test-app-id"
export const secret = "S3cr3t-value-9f8e7d"
export const accessToken = "107abdc8d6ee58551b272131c6f7371"
export const refreshToken = "af8687d58dc9400cf83819d578f5f"

/** The real captured success body. */
export const capturedSuccess = {
  accessToken,
  tokenType: "bearer",
  refreshToken,
  expiresIn: 3600,
  scope: "default"
}

/** Every secret or token value a test uses: none may appear in an error or a printed token set. */
export const allSecrets = [secret, accessToken, refreshToken]

export const authLayer = (
  baseUrl: string,
  overrides: Partial<PlatformConfig.Options> = {}
): Layer.Layer<IocmAuth.IocmAuth> =>
  IocmAuth.layer.pipe(
    Layer.provide(PlatformConfig.layer({ baseUrl, appId, secret: Redacted.make(secret), ...overrides })),
    Layer.provide(FetchHttpClient.layer),
    Layer.orDie
  )

/** Asserts that no secret or token occurs in `text`. */
export const containsNoSecret = (text: string): boolean => allSecrets.every((s) => !text.includes(s))

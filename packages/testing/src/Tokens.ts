/**
 * Tokens for tests, in both of their forms: the JSON body the platform answers a login or refresh
 * with, and the `TokenSet` that `IocmAuth` makes of it.
 *
 * @since 0.0.0
 */
import { TokenSet } from "@iocm/core/TokenSet"
import { Duration, Option, Redacted } from "effect"

/**
 * The body of a successful login or refresh, as the platform sends it.
 *
 * @since 0.0.0
 * @category models
 */
export interface TokenBody {
  readonly accessToken: string
  readonly tokenType: string
  readonly expiresIn: number
  readonly refreshToken: string
  readonly scope: string
}

/**
 * The real captured success body (`reference/platform-notes.md`).
 *
 * @since 0.0.0
 * @category bodies
 */
export const capturedBody: TokenBody = {
  accessToken: "107abdc8d6ee58551b272131c6f7371",
  tokenType: "bearer",
  refreshToken: "af8687d58dc9400cf83819d578f5f",
  expiresIn: 3600,
  scope: "default"
}

/**
 * The fields of a token set, in plain values.
 *
 * @since 0.0.0
 * @category models
 */
export interface TokenSetOptions {
  readonly accessToken: string
  /** None when undefined. */
  readonly refreshToken?: string | undefined
  readonly issuedAt: number
  /** Seconds; 3600 by default. */
  readonly expiresIn?: number | undefined
  /** 30 days by default. */
  readonly refreshTokenLifetime?: Duration.Input | undefined
}

/**
 * A bearer token set of scope "default", as the platform would issue it.
 *
 * @since 0.0.0
 * @category constructors
 */
export const tokenSet = (options: TokenSetOptions): TokenSet =>
  new TokenSet({
    accessToken: Redacted.make(options.accessToken),
    refreshToken: Option.map(Option.fromNullishOr(options.refreshToken), Redacted.make),
    tokenType: "bearer",
    scope: "default",
    expiresIn: options.expiresIn ?? 3600,
    issuedAt: options.issuedAt,
    refreshTokenLifetimeMillis: Duration.toMillis(options.refreshTokenLifetime ?? Duration.days(30))
  })

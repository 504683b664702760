/**
 * The tokens the platform issued, with the moment they were asked for: everything needed to know
 * when the access token and the refresh token expire.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const defaultRefreshTokenLifetimeMillis = 30 * 24 * 60 * 60 * 1000

/**
 * A token set. Times are epoch milliseconds. `issuedAt` is when the request was **sent** (from
 * `Clock`), so expiry errs on the early side. Tokens are `Redacted`: they print as `<redacted>`
 * in `String`, `JSON.stringify`, logs and spans; encoding the schema (for a shared store) gives
 * them as plain strings, and a missing refresh token as `null`.
 *
 * @since 0.1.0
 * @category Models
 */
export class TokenSet extends Schema.Class<TokenSet>("@iocm/core/TokenSet")({
  accessToken: Schema.RedactedFromValue(Schema.NonEmptyString),
  /** Absent on platforms older than V100R001C30; renew by logging in then. */
  refreshToken: Schema.OptionFromNullOr(Schema.RedactedFromValue(Schema.NonEmptyString)).pipe(
    Schema.withConstructorDefault(Effect.succeed(Option.none()))
  ),
  tokenType: Schema.String,
  scope: Schema.String,
  /** Lifetime of the access token, seconds. */
  expiresIn: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))),
  /** When the request that produced this set was sent, epoch ms. */
  issuedAt: Schema.Number,
  /** Lifetime of the refresh token from `issuedAt`, milliseconds (from `PlatformConfig`; default 30 days). */
  refreshTokenLifetimeMillis: Schema.Number.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.withConstructorDefault(Effect.succeed(defaultRefreshTokenLifetimeMillis))
  )
}) {
  /**
   * When the access token expires, epoch ms.
   *
   * @since 0.1.0
   */
  get expiresAt(): number {
    return this.issuedAt + this.expiresIn * 1000
  }

  /**
   * When the refresh token expires, epoch ms; `None` without a refresh token.
   *
   * @since 0.1.0
   */
  get refreshExpiresAt(): Option.Option<number> {
    return Option.map(this.refreshToken, () => this.issuedAt + this.refreshTokenLifetimeMillis)
  }

  /**
   * Whether the access token is still valid at `now` (epoch ms).
   *
   * @since 0.1.0
   */
  isValidAt(now: number): boolean {
    return now < this.expiresAt
  }
}

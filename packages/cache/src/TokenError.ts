/**
 * What `TokenService.get` and `refresh` can fail with: the errors of `@iocm/core`'s login (a
 * refused refresh token never reaches callers: it is replaced by a login), and `ExpiredOnArrival`.
 * Which of them are retried is `RefreshPolicy.classify`'s decision.
 *
 * @since 0.1.0
 */
import type * as IocmError from "@iocm/core/IocmError"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * The platform answered with an access token that had already expired when the answer arrived
 * (its `expiresIn` is shorter than the time the request took). Retryable: `TokenService` backs off
 * instead of asking again at once.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ExpiredOnArrival extends Schema.TaggedError<ExpiredOnArrival>("@iocm/cache/ExpiredOnArrival")(
  "ExpiredOnArrival",
  {
    code: Schema.String,
    description: Schema.String,
    /** Lifetime the platform gave the token, seconds. */
    expiresIn: Schema.Number,
    /** How long the request took, milliseconds. */
    latencyMillis: Schema.Number,
    retryable: Schema.Boolean.pipe(Schema.withConstructorDefault(Effect.succeed(true)))
  }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `ExpiredOnArrival: the platform issued a token valid for ${this.expiresIn} s, but the request took ${this.latencyMillis} ms; backing off before asking again.`
  }
}

/**
 * Everything `TokenService.get` and `TokenService.refresh` can fail with.
 *
 * @since 0.1.0
 * @category Errors
 */
export type TokenError = IocmError.LoginError | ExpiredOnArrival

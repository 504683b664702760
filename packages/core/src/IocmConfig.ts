/**
 * The building blocks every `layerConfig` of iocm reads its `IOCM_*` variables with: durations that
 * also take a bare number of seconds, required variables whose error says they are not set, and the
 * one definition of each variable that more than one package reads (`IOCM_TIMEOUT`).
 *
 * Each fails with a {@link VariableError}, a `Config.ConfigError` whose `message` is one line naming
 * the variable, and which never shows the value of a secret.
 *
 * @since 0.2.0
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"

/**
 * A variable is not set, or its value is not what it should be. A `Config.ConfigError` (its `cause`
 * is a `SchemaError` pointing at the variable), with a one-line `message` such as
 * `IOCM_SECRET is not set` or
 * `IOCM_TIMEOUT: expected a duration such as "30 seconds" or a number of seconds, got "soon"`.
 *
 * @since 0.2.0
 * @category Errors
 */
export class VariableError extends Config.ConfigError {
  /**
   * The variable at fault, e.g. `IOCM_TIMEOUT`.
   *
   * @since 0.2.0
   */
  readonly variable: string
  /** @internal */
  readonly #message: string

  /** @since 0.2.0 */
  constructor(variable: string, message: string, issue: SchemaIssue.Issue) {
    super(new Schema.SchemaError(new SchemaIssue.Pointer([variable], issue)))
    this.variable = variable
    this.#message = message
  }

  /** @since 0.2.0 */
  override get message(): string {
    return this.#message
  }
}

/** The variable is absent (or empty, which Effect's default provider reads as absent). */
const notSet = (variable: string): VariableError => {
  const message = `${variable} is not set`
  return new VariableError(variable, message, new SchemaIssue.MissingKey({ messageMissingKey: message }))
}

/** The variable's value is refused; the value is quoted, so this is only for variables that are not secret. */
const invalidValue = (variable: string, expected: string, value: string): VariableError => {
  const message = `${variable}: expected ${expected}, got ${JSON.stringify(value)}`
  return new VariableError(variable, message, new SchemaIssue.InvalidValue({ message }))
}

/** The value when present, else `notSet`: a hard failure, so neither `Config.withDefault` nor `Config.option` hides it. */
const required = <A>(variable: string, config: Config.Config<A>): Config.Config<A> =>
  Config.option(config).pipe(
    Config.mapEffect(Option.match({
      onNone: () => Effect.fail(notSet(variable)),
      onSome: Effect.succeed
    }))
  )

/**
 * A variable that must be set, as a string. Missing (or empty, with Effect's default provider), it
 * fails with the `VariableError` `<name> is not set`.
 *
 * @since 0.2.0
 * @category Constructors
 */
export const requiredString = (name: string): Config.Config<string> => required(name, Config.String(name))

/**
 * A secret variable that must be set, as a `Redacted`. Missing (or empty, with Effect's default
 * provider), it fails with the `VariableError` `<name> is not set`; no error ever shows its value.
 *
 * @since 0.2.0
 * @category Constructors
 */
export const requiredRedacted = (name: string): Config.Config<Redacted.Redacted<string>> =>
  required(name, Config.Redacted(name))

const bareSeconds = /^\d+(\.\d+)?$/

const decodeDurationString = Schema.decodeUnknownOption(Schema.DurationFromString)

/** A bare number of seconds or an Effect duration string, when it is not negative. */
const parseDuration = (text: string): Option.Option<Duration.Duration> =>
  bareSeconds.test(text)
    ? Option.some(Duration.seconds(Number(text)))
    : Option.filter(decodeDurationString(text), (duration) => !Duration.isNegative(duration))

const durationFormat = `a duration such as "30 seconds" or a number of seconds`

/**
 * A duration variable: a bare non-negative number of seconds (`5`, `0.5`) or an Effect duration
 * string (`5 seconds`, `250 millis`, `Infinity`). Anything else fails with the `VariableError`
 * `<name>: expected a duration such as "30 seconds" or a number of seconds, got "<value>"`. An unset
 * variable is absent, as for Effect's own configs: make it optional with `Config.withDefault` or
 * `Config.option`.
 *
 * @example
 * ```ts
 * import { IocmConfig } from "@iocm/core"
 * import { Config } from "effect"
 *
 * // Unset: undefined (the layer's default); "5", "0.5" or "250 millis": that duration; "soon": a ConfigError.
 * const connectTimeout = IocmConfig.duration("IOCM_CONNECT_TIMEOUT").pipe(Config.withDefault(undefined))
 * ```
 *
 * @since 0.2.0
 * @category Constructors
 */
export const duration = (name: string): Config.Config<Duration.Duration> =>
  Config.String(name).pipe(
    Config.mapEffect((text) =>
      Option.match(parseDuration(text), {
        onNone: () => Effect.fail(invalidValue(name, durationFormat, text)),
        onSome: Effect.succeed
      })
    )
  )

/**
 * `IOCM_TIMEOUT`, the bound on one request as a whole (one login or refresh in `@iocm/core`, one
 * business request in `@iocm/http`), or `undefined` when it is unset, so that each layer applies its
 * default (30 seconds). The one definition of the variable: every package that reads it reads this.
 *
 * @since 0.2.0
 * @category Variables
 */
export const timeout: Config.Config<Duration.Duration | undefined> = duration("IOCM_TIMEOUT").pipe(
  Config.withDefault(undefined)
)

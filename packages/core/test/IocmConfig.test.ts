import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Duration, Effect, Option, Redacted, Schema } from "effect"
import * as IocmConfig from "../src/IocmConfig.js"
import { secret } from "./utils/fixtures.js"

type Env = Record<string, string>

const fromEnv = (env: Env) => ConfigProvider.fromEnv({ env })
const keepingEmpty = (env: Env) => ConfigProvider.fromEnv({ env, preserveEmptyStrings: true })

/** The `VariableError` a config fails with on the given provider. */
const failure = <A>(config: Config.Config<A>, provider: ConfigProvider.ConfigProvider) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(config.parse(provider))
    assert.instanceOf(error, IocmConfig.VariableError)
    assert.strictEqual(error._tag, "ConfigError")
    return error as IocmConfig.VariableError
  })

const expectedDuration = (variable: string, value: string) =>
  `${variable}: expected a duration such as "30 seconds" or a number of seconds, got ${JSON.stringify(value)}`

describe("IocmConfig.duration", () => {
  const accepted: ReadonlyArray<[string, Duration.Duration]> = [
    ["5", Duration.seconds(5)],
    ["0.5", Duration.millis(500)],
    ["0", Duration.zero],
    ["30", Duration.seconds(30)],
    ["5 seconds", Duration.seconds(5)],
    ["250 millis", Duration.millis(250)],
    ["24 hours", Duration.hours(24)],
    ["Infinity", Duration.infinity]
  ]
  for (const [text, expected] of accepted) {
    it.effect(`reads ${JSON.stringify(text)}`, () =>
      Effect.gen(function*() {
        const value = yield* IocmConfig.duration("IOCM_X").parse(fromEnv({ IOCM_X: text }))
        assert.isTrue(Duration.equals(value, expected), `${text} read as ${Duration.format(value)}`)
      }))
  }

  for (const text of ["soon", "-1", "-1 seconds", "-Infinity", "5s", "1e3", ".5", " 5", "5 fortnights"]) {
    it.effect(`refuses ${JSON.stringify(text)}, naming the variable, the format and the value`, () =>
      Effect.gen(function*() {
        const error = yield* failure(IocmConfig.duration("IOCM_X"), fromEnv({ IOCM_X: text }))
        assert.strictEqual(error.message, expectedDuration("IOCM_X", text))
        assert.strictEqual(error.variable, "IOCM_X")
      }))
  }

  it.effect("refuses an empty value that the provider keeps", () =>
    Effect.gen(function*() {
      const error = yield* failure(IocmConfig.duration("IOCM_X"), keepingEmpty({ IOCM_X: "" }))
      assert.strictEqual(error.message, expectedDuration("IOCM_X", ""))
    }))

  it.effect("is absent when unset or empty, so withDefault and option apply, but not to an invalid value", () =>
    Effect.gen(function*() {
      const withDefault = IocmConfig.duration("IOCM_X").pipe(Config.withDefault(undefined))
      assert.isUndefined(yield* withDefault.parse(fromEnv({})))
      assert.isUndefined(yield* withDefault.parse(fromEnv({ IOCM_X: "" })))
      assert.isTrue(Option.isNone(yield* Config.option(IocmConfig.duration("IOCM_X")).parse(fromEnv({}))))
      const error = yield* failure(withDefault, fromEnv({ IOCM_X: "soon" }))
      assert.strictEqual(error.message, expectedDuration("IOCM_X", "soon"))
    }))

  it.effect("fails with a SchemaError pointing at the variable as its cause", () =>
    Effect.gen(function*() {
      const error = yield* failure(IocmConfig.duration("IOCM_X"), fromEnv({ IOCM_X: "soon" }))
      assert.isTrue(Schema.isSchemaError(error.cause))
      const issue = Schema.isSchemaError(error.cause) ? error.cause.issue : undefined
      assert.strictEqual(issue?._tag, "Pointer")
      assert.deepStrictEqual(issue?._tag === "Pointer" ? issue.path : [], ["IOCM_X"])
      assert.strictEqual(String(error), `ConfigError(${expectedDuration("IOCM_X", "soon")})`)
    }))
})

describe("IocmConfig.requiredString", () => {
  it.effect("reads the variable", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* IocmConfig.requiredString("IOCM_X").parse(fromEnv({ IOCM_X: "value" })), "value")
    }))

  it.effect("says a missing or empty variable is not set, and no default hides that", () =>
    Effect.gen(function*() {
      const config = IocmConfig.requiredString("IOCM_X")
      for (const env of [{}, { IOCM_X: "" }, { IOCM_X_Y: "nested" }]) {
        const error = yield* failure(config, fromEnv(env))
        assert.strictEqual(error.message, "IOCM_X is not set")
        assert.strictEqual(error.variable, "IOCM_X")
      }
      const defaulted = yield* failure(config.pipe(Config.withDefault("fallback")), fromEnv({}))
      assert.strictEqual(defaulted.message, "IOCM_X is not set")
    }))

  it.effect("keeps an empty value that the provider keeps", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* IocmConfig.requiredString("IOCM_X").parse(keepingEmpty({ IOCM_X: "" })), "")
    }))
})

describe("IocmConfig.requiredRedacted", () => {
  it.effect("reads the variable as a Redacted", () =>
    Effect.gen(function*() {
      const value = yield* IocmConfig.requiredRedacted("IOCM_SECRET").parse(fromEnv({ IOCM_SECRET: secret }))
      assert.isTrue(Redacted.isRedacted(value))
      assert.strictEqual(Redacted.value(value), secret)
      assert.notInclude(String(value), secret)
    }))

  it.effect("says a missing or empty secret is not set, without <redacted> and without any value", () =>
    Effect.gen(function*() {
      for (const env of [{}, { IOCM_SECRET: "" }, { IOCM_SECRET_OLD: secret }]) {
        const error = yield* failure(IocmConfig.requiredRedacted("IOCM_SECRET"), fromEnv(env))
        assert.strictEqual(error.message, "IOCM_SECRET is not set")
        assert.notInclude(String(error), secret)
        assert.notInclude(JSON.stringify(error.cause), secret)
      }
    }))
})

describe("IocmConfig.timeout", () => {
  it.effect("reads IOCM_TIMEOUT, a bare number as seconds", () =>
    Effect.gen(function*() {
      const value = yield* IocmConfig.timeout.parse(fromEnv({ IOCM_TIMEOUT: "5" }))
      assert.isTrue(value !== undefined && Duration.equals(value, Duration.seconds(5)))
    }))

  it.effect("is undefined when unset or empty, for the layer's default", () =>
    Effect.gen(function*() {
      assert.isUndefined(yield* IocmConfig.timeout.parse(fromEnv({})))
      assert.isUndefined(yield* IocmConfig.timeout.parse(fromEnv({ IOCM_TIMEOUT: "" })))
    }))

  it.effect("refuses an unreadable value, naming IOCM_TIMEOUT", () =>
    Effect.gen(function*() {
      const error = yield* failure(IocmConfig.timeout, fromEnv({ IOCM_TIMEOUT: "soon" }))
      assert.strictEqual(
        error.message,
        `IOCM_TIMEOUT: expected a duration such as "30 seconds" or a number of seconds, got "soon"`
      )
    }))
})

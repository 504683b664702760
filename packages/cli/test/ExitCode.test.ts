/**
 * The one classification of errors into exit codes, table-driven.
 */
import { assert, describe, it } from "@effect/vitest"
import { TokenStoreError } from "@iocm/cache/TokenStore"
import { IocmConfig, IocmError, PlatformConfig } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { TokenStore } from "@iocm/redis"
import { Simulator } from "@iocm/simulator"
import { Effect } from "effect"
import { CliError } from "effect/cli"
import * as Redis from "effect/persistence/Redis"
import { ExitCode } from "../src/index.js"

describe("ExitCode.of", () => {
  it.effect("one class per error, by its tag", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(IocmConfig.requiredString("IOCM_CLI_TEST_UNSET"))
      const table: ReadonlyArray<readonly [unknown, number]> = [
        [new CliError.ValidationError({ message: "no" }), ExitCode.Usage],
        [new CliError.UnrecognizedOption({ option: "--x", suggestions: [] }), ExitCode.Usage],
        [missing, ExitCode.Configuration],
        [new PlatformConfig.InvalidPlatformConfig({ option: "baseUrl", reason: "no" }), ExitCode.Configuration],
        [new IocmHttp.IocmHttpConfigError({ option: "ca", reason: "no" }), ExitCode.Configuration],
        [new TokenStore.StoreKeyError({ option: "key", reason: "missing" }), ExitCode.Configuration],
        [new Redis.RedisError({ cause: new Error("not a redis:// URL") }), ExitCode.Configuration],
        [new Simulator.SimulatorError({ reason: "Listen", description: "in use" }), ExitCode.Configuration],
        [new IocmError.InvalidCredentials(), ExitCode.Credentials],
        [new IocmError.RefreshTokenRejected(), ExitCode.Credentials],
        [new IocmError.MissingParameter(), ExitCode.Credentials],
        [new IocmError.InvalidInput(), ExitCode.Credentials],
        [new IocmError.AccountFrozen(), ExitCode.Credentials],
        [new IocmError.ApplicationFrozen(), ExitCode.Credentials],
        [new IocmError.TransportError(), ExitCode.Transport],
        [new TokenStoreError({ operation: "get", description: "down" }), ExitCode.Transport],
        [new IocmError.PlatformInternalError(), ExitCode.Platform],
        [new IocmError.UnknownPlatformError({ code: "1", retryable: false }), ExitCode.Platform],
        [new IocmError.MalformedResponse(), ExitCode.Platform],
        [new Error("a bug"), ExitCode.Unexpected],
        ["not even an error", ExitCode.Unexpected]
      ]
      for (const [error, code] of table) assert.strictEqual(ExitCode.of(error), code, String(error))
    }))
})

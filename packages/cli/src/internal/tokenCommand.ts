/**
 * `iocm token`: prints the app's current access token and nothing else on stdout, for
 * `curl -H "$(iocm token --header)" -H "app_key: $IOCM_APP_ID" …`. With a fleet's store configured
 * (`IOCM_REDIS_URL`) it reads the fleet's token and never logs in, which would invalidate it;
 * without one it logs in, saying on stderr first that this invalidates any other holder's token.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fleet from "./fleet.js"
import * as Settings from "./settings.js"
import { type Obtained, printToken, type TokenFormat } from "./tokens.js"

const flags = {
  ...Settings.flags,
  header: Settings.switchFlag("header", "print \"Authorization: Bearer <token>\", a header for curl -H"),
  json: Settings.switchFlag(
    "json",
    "print {\"accessToken\",\"tokenType\",\"expiresAt\",\"expiresIn\",\"generation\",\"source\"}"
  )
}

type Input = Settings.Input & { readonly header: boolean; readonly json: boolean }

const formatOf = (input: Input): Effect.Effect<TokenFormat, CliError.CliError> =>
  input.header && input.json
    ? Effect.fail(new CliError.ValidationError({ message: "--header and --json cannot be used together" }))
    : Effect.succeed(input.header ? "header" : input.json ? "json" : "token")

/** A fresh token from a login, said on stderr first to invalidate any other holder's. */
const loggedIn = Effect.gen(function*() {
  const { appId } = yield* PlatformConfig.PlatformConfig
  yield* Settings.warnInvalidation("token", "login", appId)
  const tokens = yield* IocmAuth.IocmAuth.use((auth) => auth.login)
  const obtained: Obtained = { tokens, source: "login" }
  return obtained
}).pipe(Effect.provide(Settings.layerAuth))

/** The fleet's token when a store is configured, else one of a login. */
const obtain = Effect.gen(function*() {
  return (yield* Fleet.configured) ? yield* Effect.provide(Fleet.token, PlatformConfig.layerConfig()) : yield* loggedIn
})

const run = (input: Input) =>
  Effect.gen(function*() {
    const format = yield* formatOf(input)
    const obtained = yield* obtain
    yield* Console.log(printToken(obtained, format, yield* Clock.currentTimeMillis))
  }).pipe(Settings.withFlags(input))

/**
 * The `token` command.
 *
 * @internal
 */
export const command = Command.make("token", flags, run).pipe(
  Command.withDescription(
    "Prints the app's current access token, and nothing else on stdout. With IOCM_REDIS_URL (and IOCM_STORE_KEY)\n" +
      "  set, it reads the token the fleet's processes share from their store, and fails when it holds no valid\n" +
      "  one: it never logs in beside a fleet, since a login invalidates the fleet's token. Without a store it logs\n" +
      "  in, and says on stderr that this invalidates the token of any other holder of the app's token."
  ),
  Command.withShortDescription("print the access token (the fleet's, or a login's) for curl"),
  Command.withExamples([
    {
      command: "curl -H \"$(iocm token --header)\" -H \"app_key: $IOCM_APP_ID\" --cacert \"$IOCM_CA_FILE\" " +
        "\"$IOCM_BASE_URL/iocm/app/dm/v1.4.0/devices?pageNo=0&pageSize=10\"",
      description: "a business call by hand"
    },
    { command: "iocm token --json", description: "the token with its type, expiry and generation" }
  ])
)

/**
 * `iocm login` and `iocm refresh`: the platform's two raw calls, one request each, printing the
 * token set they return with both tokens masked unless `--show-tokens` asks for them. Each says
 * on stderr, before it is sent, that it invalidates the app's current access token.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as IocmConfig from "@iocm/core/IocmConfig"
import { PlatformConfig } from "@iocm/core/PlatformConfig"
import type * as TokenSet from "@iocm/core/TokenSet"
import * as Command from "effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Settings from "./settings.js"
import { printTokenSet } from "./tokens.js"

const flags = {
  ...Settings.flags,
  json: Settings.switchFlag("json", "print the token set as one JSON object"),
  showTokens: Settings.switchFlag("show-tokens", "print the access and refresh tokens instead of <masked>")
}

type Input = Settings.Input & { readonly json: boolean; readonly showTokens: boolean }

/** Reads what the call needs (`given`), says that it invalidates the token, runs it and prints its token set. */
const calling = <A, E1, E2>(
  name: "login" | "refresh",
  given: Effect.Effect<A, E1>,
  call: (auth: IocmAuth.Service, a: A) => Effect.Effect<TokenSet.TokenSet, E2>
) =>
(input: Input) =>
  Effect.gen(function*() {
    const a = yield* given
    const { appId } = yield* PlatformConfig
    yield* Settings.warnInvalidation(name, name, appId)
    const tokens = yield* call(yield* IocmAuth.IocmAuth, a)
    yield* Console.log(printTokenSet(tokens, input))
  }).pipe(Effect.provide(Settings.layerAuth), Settings.withFlags(input))

/**
 * The `login` command.
 *
 * @internal
 */
export const login = Command.make("login", flags, calling("login", Effect.void, (auth) => auth.login)).pipe(
  Command.withDescription(
    "Logs in (POST /iocm/app/sec/v1.1.0/login with IOCM_APP_ID and IOCM_SECRET) and prints the token set,\n" +
      "  its tokens masked unless --show-tokens. This invalidates the app's current access token everywhere."
  ),
  Command.withShortDescription("log in once and print the token set (masked)")
)

/**
 * The `refresh` command.
 *
 * @internal
 */
export const refresh = Command.make(
  "refresh",
  flags,
  // The refresh token is a secret: IOCM_REFRESH_TOKEN, never a flag.
  calling("refresh", IocmConfig.requiredRedacted("IOCM_REFRESH_TOKEN"), (auth, token) => auth.refresh(token))
).pipe(
  Command.withDescription(
    "Refreshes the token (POST /iocm/app/sec/v1.1.0/refreshToken) with the refresh token in IOCM_REFRESH_TOKEN\n" +
      "  and prints the new token set, masked unless --show-tokens. The refresh token is used up, and the app's\n" +
      "  current access token invalidated."
  ),
  Command.withShortDescription("refresh once with IOCM_REFRESH_TOKEN and print the token set (masked)"),
  Command.withExamples([{
    command: "IOCM_REFRESH_TOKEN=\"$(iocm login --json --show-tokens | jq -r .refreshToken)\" iocm refresh",
    description: "log in, then refresh with the refresh token the login gave"
  }])
)

/**
 * The exit codes of the `iocm` command, one per class of failure, and the one function that decides
 * the class of an error: a script can tell a typo from a wrong secret from a network outage without
 * reading the message.
 *
 * The constants below are the codes; the package's README has them in one table, with examples.
 *
 * @since 0.2.0
 */
import * as CliError from "effect/cli/CliError"
import * as Runtime from "effect/Runtime"

/**
 * Everything went as asked.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Success = 0

/**
 * A failure iocm did not expect: a bug, reported on stderr.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Unexpected = 1

/**
 * A command line the command cannot use.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Usage = 2

/**
 * A setting is missing or refused before anything was sent.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Configuration = 3

/**
 * The platform refused the app's credentials or refresh token, or the app is frozen.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Credentials = 4

/**
 * No complete answer from the platform (or from the fleet's store).
 *
 * @since 0.2.0
 * @category Codes
 */
export const Transport = 5

/**
 * The platform answered, but with a failure of its own or not with its JSON.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Platform = 6

/**
 * The fleet's store holds no valid token.
 *
 * @since 0.2.0
 * @category Codes
 */
export const NoToken = 7

/**
 * Stopped by Ctrl-C or SIGTERM.
 *
 * @since 0.2.0
 * @category Codes
 */
export const Interrupted = 130

/**
 * The class of each error iocm's packages fail with, by `_tag`.
 */
const byTag: Readonly<Record<string, number>> = {
  // @iocm/core, @iocm/http, @iocm/redis, @iocm/simulator: settings refused before anything is sent
  ConfigError: Configuration,
  InvalidPlatformConfig: Configuration,
  IocmHttpConfigError: Configuration,
  StoreKeyError: Configuration,
  // @iocm/redis's connection refuses an IOCM_REDIS_URL that is not redis:// or rediss://
  RedisError: Configuration,
  SimulatorError: Configuration,
  // @iocm/core: who the app is, refused
  InvalidCredentials: Credentials,
  RefreshTokenRejected: Credentials,
  MissingParameter: Credentials,
  InvalidInput: Credentials,
  AccountFrozen: Credentials,
  ApplicationFrozen: Credentials,
  // no complete answer
  TransportError: Transport,
  TokenStoreError: Transport,
  // the platform's own failures
  PlatformInternalError: Platform,
  UnknownPlatformError: Platform,
  MalformedResponse: Platform,
  // @iocm/cli
  NoFleetToken: NoToken
}

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : undefined

/**
 * The exit code of a command that failed with `error`: `Usage` for any `effect/cli` error, the
 * code an error carries as `Runtime.errorExitCode` (a failed `iocm doctor` carries the class of
 * the step that failed), the class of an error of iocm's packages by its tag, and `Unexpected`
 * for anything else.
 *
 * @example
 * ```ts
 * import { ExitCode } from "@iocm/cli"
 * import { IocmError } from "@iocm/core"
 *
 * ExitCode.of(new IocmError.InvalidCredentials()) // 4
 * ExitCode.of(new IocmError.TransportError({ description: "connection refused" })) // 5
 * ```
 *
 * @since 0.2.0
 * @category Classification
 */
export const of = (error: unknown): number => {
  if (CliError.isCliError(error)) return Usage
  if (typeof error === "object" && error !== null && Runtime.errorExitCode in error) {
    return Runtime.getErrorExitCode(error)
  }
  return byTag[tagOf(error) ?? ""] ?? Unexpected
}

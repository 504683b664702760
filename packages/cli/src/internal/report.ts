/**
 * What `iocm` says when a command does not succeed, on stderr only (stdout is the command's
 * output: `$(iocm token)` must never capture a message), and the exit code it ends with: the one
 * `ExitCode.of` gives the error. A usage error points at the command's `--help`; an unexpected
 * failure says it is a bug, without a stack trace.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as CliError from "effect/cli/CliError"
import * as CliOutput from "effect/cli/CliOutput"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as ExitCode from "../ExitCode.js"

const helpPointer = (commandPath: ReadonlyArray<string>): string =>
  `Run "${commandPath.join(" ")} --help" for ${commandPath.length > 1 ? "its flags" : "the commands"}.`

/**
 * Help and the version on stdout; the errors of a command line that cannot be used on stderr,
 * with a pointer to the command's help instead of the help itself.
 *
 * @internal
 */
export const layerPresenter: Layer.Layer<never> = Layer.succeed(CliOutput.Presenter, {
  present: (event) => {
    switch (event._tag) {
      case "InvalidInvocation":
        return Console.error(
          [...event.errors.map((error) => `iocm: ${error.message}`), helpPointer(event.commandPath)].join("\n")
        )
      case "Version":
        return Console.log(event.version)
      case "Help":
        return CliOutput.defaultPresenter.present(event)
    }
  }
})

/** An error's message, or its cause's when it has none of its own (`RedisError`). */
const messageOf = (error: unknown): string | undefined => {
  if (!Predicate.hasProperty(error, "message") || typeof error.message !== "string") return undefined
  if (error.message !== "") return error.message
  const cause = Predicate.hasProperty(error, "cause") ? messageOf(error.cause) : undefined
  return cause === undefined
    ? undefined
    : `${Predicate.hasProperty(error, "_tag") ? String(error._tag) : "Error"}: ${cause}`
}

/** A failure of the command: said on stderr (unless the presenter did), and its exit code. */
const failure = (error: unknown): Effect.Effect<number> => {
  if (CliError.isCliError(error) && error._tag === "ShowHelp") {
    // Presented already: the help of a command that needs a subcommand, or the errors of a command line.
    return Effect.succeed(error.errors.length === 0 ? ExitCode.Success : ExitCode.Usage)
  }
  const message = messageOf(error) ?? String(error)
  const pointer = CliError.isCliError(error) ? `\n${helpPointer(["iocm", "<command>"])}` : ""
  return Effect.as(Console.error(`iocm: ${message}${pointer}`), ExitCode.of(error))
}

/** A defect: a bug, said in one line. */
const unexpected = (cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  const defect = Cause.squash(cause)
  return Effect.as(
    Console.error(
      `iocm: unexpected failure (a bug; please report it): ${defect instanceof Error ? defect.message : String(defect)}`
    ),
    ExitCode.Unexpected
  )
}

/**
 * The exit code of a run of `self`, said on stderr when it is not 0; an interruption (Ctrl-C,
 * SIGTERM) is left to the caller.
 *
 * @internal
 */
export const exitCode = <E, R>(self: Effect.Effect<void, E, R>): Effect.Effect<number, never, R> =>
  self.pipe(
    Effect.as(ExitCode.Success),
    Effect.catch(failure),
    Effect.catchCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.interrupt : unexpected(cause))
  )

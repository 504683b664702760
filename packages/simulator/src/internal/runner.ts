/**
 * The `iocm-simulator` bin's runner (`pnpm simulator` in this repository): runs the simulator's
 * command on the arguments and turns how it ended into an exit code — 0 when it was stopped, 2 for
 * a command line it cannot use (said on stderr with a pointer to `--help`, so that `--json` keeps
 * stdout for its one line), 1 when the simulator cannot start or fails unexpectedly.
 *
 * @internal
 */
import type * as CliError from "effect/cli/CliError"
import * as CliOutput from "effect/cli/CliOutput"
import * as Command from "effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Cli from "./cli.js"
import { packageVersion } from "./fixtures.js"
import * as Output from "./output.js"

const pointer = (program: string) => `Run "${program} --help" for the flags.`

/** Help and the version on stdout as `effect/cli` writes them; usage errors on stderr only. */
const presenter = (program: string): CliOutput.Presenter => ({
  present: (event) => {
    switch (event._tag) {
      case "InvalidInvocation":
        return Console.error(
          [...event.errors.map((error) => `simulator: ${error.message}`), pointer(program)].join("\n")
        )
      case "Version":
        return Console.log(event.version)
      case "Help":
        return CliOutput.defaultPresenter.present(event)
    }
  }
})

/** A command line the command cannot use: exit code 2, said on stderr unless the presenter already did. */
const usage = (program: string) => (error: CliError.CliError): Effect.Effect<number> => {
  if (error._tag !== "ShowHelp") return Effect.as(Console.error(`simulator: ${error.message}\n${pointer(program)}`), 2)
  // No errors: help was asked for by naming no command at all.
  return Effect.succeed(error.errors.length === 0 ? 0 : 2)
}

/**
 * Runs the simulator's command on `argv` and succeeds with the process's exit code; `program` is
 * how the user started it, for the pointer to `--help`. A defect is reported on stderr (never
 * stdout) and fails the effect; an interruption (Ctrl-C, SIGTERM, the normal way to stop the
 * simulator) is left to the caller.
 *
 * @internal
 */
export const main = (argv: ReadonlyArray<string>, program: string): Effect.Effect<number, never, Command.Environment> =>
  Command.runWith(Cli.make("iocm-simulator"), { version: packageVersion() })(argv).pipe(
    Effect.as(0),
    Effect.catchTag("SimulatorError", (error) => Effect.as(Console.error(`simulator: ${error.message}`), 1)),
    Effect.catch(usage(program)),
    Effect.tapCause(Output.reportUnexpected),
    Effect.provide(Layer.succeed(CliOutput.Presenter, presenter(program)))
  )

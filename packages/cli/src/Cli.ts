/**
 * The `iocm` command line, on `effect/cli`, for the operators of a Network Application:
 *
 * - `iocm token [--header | --json]`: the app's current access token, and nothing else on stdout
 *   (the fleet's, read from its store, when `IOCM_REDIS_URL` is set; else a login's);
 * - `iocm login`, `iocm refresh`: the platform's raw calls, their tokens masked;
 * - `iocm doctor`: DNS, TCP, TLS, the client certificate and the credentials, step by step;
 * - `iocm simulator`: the simulator (`@iocm/simulator`'s command).
 *
 * Every flag of the platform's settings spells an `IOCM_*` variable and wins over it; secrets come
 * from the environment only. Exit codes: see `ExitCode`.
 *
 * @since 0.2.0
 */
import { SimulatorCommand } from "@iocm/simulator"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Fs from "node:fs"
import * as AuthCommands from "./internal/authCommands.js"
import * as DoctorCommand from "./internal/doctorCommand.js"
import * as Report from "./internal/report.js"
import * as TokenCommand from "./internal/tokenCommand.js"

/**
 * The version of `@iocm/cli`, as `iocm --version` prints it.
 *
 * @since 0.2.0
 * @category Metadata
 */
export const version: string = (JSON.parse(
  Fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")
) as { readonly version: string }).version

/**
 * The `iocm` command and its subcommands.
 *
 * @since 0.2.0
 * @category Commands
 */
export const command = Command.make("iocm").pipe(
  Command.withDescription(
    "Operates an iocm Network Application from a shell: the platform's access token for curl, a doctor for\n" +
      "  TLS and credentials, login and refresh by hand, the simulator. Settings are the app's IOCM_* variables\n" +
      "  (a flag wins over its variable; secrets come from the environment only)."
  ),
  Command.withSubcommands([
    TokenCommand.command,
    DoctorCommand.command,
    AuthCommands.login,
    AuthCommands.refresh,
    SimulatorCommand.command
  ])
)

/**
 * Runs `iocm` on the arguments (without the program's name) and succeeds with the exit code of the
 * run, having said on stderr why it failed (see `ExitCode`); an interruption is left to the caller.
 * Nothing but the command's output goes to stdout: messages and log lines go to stderr.
 *
 * @example
 * ```ts
 * import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
 * import * as NodeServices from "@effect/platform-node/NodeServices"
 * import { Cli } from "@iocm/cli"
 * import { Effect } from "effect"
 *
 * // `iocm --version`, from a program of your own.
 * Cli.run(["--version"]).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
 * ```
 *
 * @since 0.2.0
 * @category Running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Command.Environment> =>
  Command.runWith(command, { version })(argv).pipe(
    Report.exitCode,
    Effect.provide(Report.layerPresenter),
    // Log lines (a store's connection warnings…) join the messages on stderr: stdout is the command's output.
    Effect.provideService(Logger.LogToStderr, true)
  )

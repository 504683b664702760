/**
 * The simulator's command line as an `effect/cli` command: the flags of `iocm-simulator` (and of
 * `pnpm simulator` in the iocm repository), each falling back to its `IOCM_SIM_*` variable (the main
 * app to `IOCM_APP_ID` and `IOCM_SECRET`), the banner or the `--json` ready line, and serving until
 * interrupted. `@iocm/cli` mounts it as `iocm simulator`.
 *
 * @since 0.2.0
 */
import type * as CliError from "effect/cli/CliError"
import type * as Command from "effect/cli/Command"
import * as Cli from "./internal/cli.js"
import type { SimulatorError } from "./Simulator.js"

/**
 * The values of the simulator's flags, as parsed.
 *
 * @since 0.2.0
 * @category Models
 */
export type Input = Cli.Input

/**
 * The simulator's command, named `name`: it fails with a `CliError` for flags that do not go
 * together (`--http` with `--mtls`) and with the `SimulatorError` of a simulator that cannot start.
 *
 * @example
 * ```ts
 * import { SimulatorCommand } from "@iocm/simulator"
 * import { Command } from "effect/cli"
 *
 * // A command line of your own, with the simulator as its `sim` subcommand.
 * export const tools = Command.make("tools").pipe(Command.withSubcommands([SimulatorCommand.make("sim")]))
 * ```
 *
 * @since 0.2.0
 * @category Constructors
 */
export const make: <const Name extends string>(
  name: Name
) => Command.Command<Name, Input, {}, CliError.CliError | SimulatorError> = Cli.make

/**
 * The simulator's command named `simulator`, as `iocm simulator` runs it.
 *
 * @since 0.2.0
 * @category Commands
 */
export const command: Command.Command<"simulator", Input, {}, CliError.CliError | SimulatorError> = make("simulator")

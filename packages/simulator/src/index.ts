/**
 * `@iocm/simulator`: a faithful fake of the OceanConnect platform's authentication API.
 *
 * @since 0.1.0
 */

/**
 * The simulator: its options, service, Layer and control API.
 *
 * @since 0.1.0
 */
export * as Simulator from "./Simulator.js"

/**
 * The simulator's command line as an `effect/cli` command (`iocm-simulator`, `iocm simulator`).
 *
 * @since 0.2.0
 */
export * as SimulatorCommand from "./SimulatorCommand.js"

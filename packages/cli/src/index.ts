/**
 * `@iocm/cli`: the `iocm` command — the platform's access token for curl, a doctor for TLS and
 * credentials, login and refresh by hand, and the simulator.
 *
 * @since 0.2.0
 */

/**
 * The `iocm` command line and its runner.
 *
 * @since 0.2.0
 */
export * as Cli from "./Cli.js"

/**
 * The exit codes of `iocm`, one per class of failure.
 *
 * @since 0.2.0
 */
export * as ExitCode from "./ExitCode.js"

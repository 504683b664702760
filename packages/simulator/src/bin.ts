/**
 * Entry point of `pnpm simulator`: runs the simulator until Ctrl-C or SIGTERM.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cli from "./internal/cli.js"

NodeRuntime.runMain(Cli.main(process.argv.slice(2), process.env), { disablePrettyLogger: true })

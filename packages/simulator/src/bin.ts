#!/usr/bin/env node
/**
 * The `iocm-simulator` command (`pnpm simulator` in this repository): runs the simulator until
 * Ctrl-C or SIGTERM.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import type * as Runtime from "effect/Runtime"
import * as Cli from "./internal/cli.js"

// Ctrl-C and SIGTERM are the normal way to stop the simulator: exit 0, not Effect 4's 130. The CLI
// sets `process.exitCode` itself on a usage error (2) or a failed start (1).
const teardown: Runtime.Teardown = (exit, onExit) =>
  onExit(Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? 1 : 0)

// Run from its source it is this repository's `pnpm simulator`; built, the installed `iocm-simulator`.
const program = import.meta.url.endsWith(".ts") ? "pnpm simulator" : "iocm-simulator"

// The CLI reports a defect itself, on stderr: runMain's own report would go to stdout, which
// `--json` keeps for its one line.
NodeRuntime.runMain(Cli.main(process.argv.slice(2), process.env, program), { teardown, disableErrorReporting: true })

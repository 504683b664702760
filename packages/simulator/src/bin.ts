#!/usr/bin/env node
/**
 * The `iocm-simulator` command (`pnpm simulator` in this repository): runs the simulator until
 * Ctrl-C or SIGTERM. The same command is `iocm simulator` in `@iocm/cli`.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Runtime from "effect/Runtime"
import * as Runner from "./internal/runner.js"

// The run succeeds with its exit code. Ctrl-C and SIGTERM are the normal way to stop the simulator:
// exit 0, not Effect 4's 130; a defect (already reported on stderr) exits 1.
const teardown: Runtime.Teardown = (exit, onExit) =>
  onExit(Exit.isSuccess(exit) ? Number(exit.value) : Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)

// Run from its source it is this repository's `pnpm simulator`; built, the installed `iocm-simulator`.
const program = import.meta.url.endsWith(".ts") ? "pnpm simulator" : "iocm-simulator"

// runMain's own report would go to stdout, which `--json` keeps for its one line.
NodeRuntime.runMain(Runner.main(process.argv.slice(2), program).pipe(Effect.provide(NodeServices.layer)), {
  teardown,
  disableErrorReporting: true
})

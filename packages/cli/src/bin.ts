#!/usr/bin/env node
/**
 * The `iocm` command.
 *
 * @since 0.2.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Runtime from "effect/Runtime"
import * as Cli from "./Cli.js"
import * as ExitCode from "./ExitCode.js"

// The run succeeds with its exit code, having reported any failure itself; Ctrl-C and SIGTERM exit 130.
const teardown: Runtime.Teardown = (exit, onExit) =>
  onExit(
    Exit.isSuccess(exit)
      ? Number(exit.value)
      : Cause.hasInterruptsOnly(exit.cause)
      ? ExitCode.Interrupted
      : ExitCode.Unexpected
  )

NodeRuntime.runMain(Cli.run(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer)), {
  teardown,
  disableErrorReporting: true
})

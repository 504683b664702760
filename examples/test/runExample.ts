/**
 * Runs an example exactly as a user would, `pnpm example <name>` or `pnpm demo` from the repository's root, and
 * collects its output: its last line on stdout must be its own, not pnpm's.
 */
import { Simulator } from "@iocm/simulator"
import { Effect, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Runs still going: each is its own process group, so the test process kills them when it exits. */
const running = new Set<ChildProcess>()
const killGroup = (child: ChildProcess) => {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
}
process.on("exit", () => running.forEach(killGroup))

export interface ExampleRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  /** The last line of stdout. */
  readonly lastLine: string
}

/** Runs `pnpm example <name>` (`pnpm demo` for "demo", `pnpm demo:fleet` for "demo:fleet") with only the given `IOCM_*` variables set. */
export const runExample = (name: string, env: Record<string, string> = {}): Effect.Effect<ExampleRun> =>
  Effect.callback<ExampleRun>((resume) => {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith("IOCM_") && !/_proxy$/i.test(key))
    )
    const child = spawn("pnpm", name.startsWith("demo") ? [name] : ["example", name], {
      cwd: root,
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that an abandoned run is killed with the node process pnpm started.
      detached: true
    })
    running.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    const finish = (run: ExampleRun) => {
      if (!running.delete(child)) return
      resume(Effect.succeed(run))
    }
    // No pnpm on the PATH, for instance: the run fails with the reason instead of crashing the worker.
    child.on("error", (error) => finish({ status: null, stdout, stderr: `${stderr}${error.message}`, lastLine: "" }))
    child.on("close", (status) => {
      const lines = stdout.trimEnd().split("\n")
      finish({ status, stdout, stderr, lastLine: lines[lines.length - 1] ?? "" })
    })
    return Effect.sync(() => killGroup(child))
  })

/** The variables that point an example at `simulator`, trusting its CA. */
export const simulatorEnv = (simulator: Simulator.Simulator.Service) => ({
  IOCM_BASE_URL: simulator.baseUrl,
  IOCM_APP_ID: simulator.app.appId,
  IOCM_SECRET: Redacted.value(simulator.app.secret),
  IOCM_CA_FILE: join(Simulator.fixturesDirectory, "ca.pem")
})

/**
 * Runs an example exactly as a user would, `pnpm example <name>` or `pnpm demo` from the repository's root, and
 * collects its output: its last line on stdout must be its own, not pnpm's.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"

const root = new URL("../..", import.meta.url).pathname

export interface ExampleRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  /** The last line of stdout. */
  readonly lastLine: string
}

/** Runs `pnpm example <name>` (`pnpm demo` for "demo") with only the given `IOCM_*` variables set. */
export const runExample = (name: string, env: Record<string, string> = {}): Effect.Effect<ExampleRun> =>
  Effect.async<ExampleRun>((resume) => {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith("IOCM_") && !/_proxy$/i.test(key))
    )
    const child = spawn("pnpm", name === "demo" ? ["demo"] : ["example", name], {
      cwd: root,
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that an abandoned run is killed with the node process pnpm started.
      detached: true
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("close", (status) => {
      const lines = stdout.trimEnd().split("\n")
      resume(Effect.succeed({ status, stdout, stderr, lastLine: lines[lines.length - 1] ?? "" }))
    })
    return Effect.sync(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL")
    })
  })

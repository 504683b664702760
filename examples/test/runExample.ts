/**
 * Runs an example as a user would (a separate Node process through tsx) and collects its output.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"

const tsx = createRequire(import.meta.url).resolve("tsx/cli")

export interface ExampleRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  /** The last line of stdout. */
  readonly lastLine: string
}

/** Runs `examples/<name>.ts` with only the given `IOCM_*` variables set. */
export const runExample = (name: string, env: Record<string, string> = {}): Effect.Effect<ExampleRun> =>
  Effect.async<ExampleRun>((resume) => {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith("IOCM_") && !/_proxy$/i.test(key))
    )
    const child = spawn(process.execPath, [tsx, new URL(`../${name}.ts`, import.meta.url).pathname], {
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("close", (status) => {
      const lines = stdout.trimEnd().split("\n")
      resume(Effect.succeed({ status, stdout, stderr, lastLine: lines[lines.length - 1] ?? "" }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

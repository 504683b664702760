/**
 * Runs the built `iocm` (`packages/cli/dist/bin.js`) as a process, as a user would: plain `node`,
 * an environment without any `IOCM_*` variable or proxy but the ones a test sets; and a shell, for
 * the commands a user types (`curl -H "$(iocm token --header)" …`).
 */
import { Simulator } from "@iocm/simulator"
import { Effect, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { root } from "./build.js"

/** The built command. */
export const bin = Path.join(root, "packages", "cli", "dist", "bin.js")

/** How a run ended and what it printed. */
export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** This process's environment without its `IOCM_*` variables and proxies, plus `env`. */
export const cleanEnv = (env: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] =>
      entry[1] !== undefined && !entry[0].startsWith("IOCM_") && !/_proxy$/i.test(entry[0])
    )
  ),
  ...env
})

/** Runs `file` with `args` to its end (killed when interrupted). */
const spawned = (file: string, args: ReadonlyArray<string>, env: Record<string, string>): Effect.Effect<Run> =>
  Effect.callback<Run>((resume) => {
    const child = ChildProcess.spawn(file, args, { cwd: root, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", (error) => resume(Effect.succeed({ code: null, signal: null, stdout, stderr: error.message })))
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** `iocm <args>` with only the `IOCM_*` variables of `env`. */
export const iocm = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Effect.Effect<Run> =>
  spawned(process.execPath, [bin, ...args], env)

/** A shell command line, with `iocm` on the `PATH` (a script running the built bin) and `env`. */
export const shell = (script: string, env: Record<string, string> = {}): Effect.Effect<Run> =>
  spawned("sh", ["-c", `iocm() { "${process.execPath}" "${bin}" "$@"; }\n${script}`], env)

/** Whether `curl` is installed. */
export const hasCurl: boolean = ChildProcess.spawnSync("curl", ["--version"], { stdio: "ignore" }).status === 0

/** The variables that point `iocm` at `simulator` (its CA, and its client certificate under mutual TLS). */
export const simulatorEnv = (simulator: Simulator.Simulator.Service): Record<string, string> => ({
  IOCM_BASE_URL: simulator.baseUrl,
  IOCM_APP_ID: simulator.app.appId,
  IOCM_SECRET: Redacted.value(simulator.app.secret),
  IOCM_CA_FILE: fixture("ca.pem"),
  ...(simulator.mutualTls ? { IOCM_CERT_FILE: fixture("client.pem"), IOCM_KEY_FILE: fixture("client-key.pem") } : {})
})

/** The path of one of the simulator's TEST-ONLY certificate files. */
export const fixture = (name: string): string => Path.join(Simulator.fixturesDirectory, name)

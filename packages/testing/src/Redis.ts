/**
 * A real, throwaway `redis-server` for the tests of the Redis store: on a free loopback port, with
 * no persistence (`--save '' --appendonly no`), killed when the scope closes, and killable and
 * restartable (empty) on the same port to test an outage. Tests of Redis never use a fake Redis.
 *
 * @since 0.0.0
 */
import type { Scope } from "effect"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"
import * as Loopback from "./Loopback.js"

/**
 * A running server.
 *
 * @since 0.0.0
 * @category models
 */
export interface Server {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Kills the server (SIGKILL) and waits for it to be gone: its data is lost, as in a crash. */
  readonly kill: Effect.Effect<void>
  /** Starts an empty server on the same port again, once it answers `PING`. */
  readonly restart: Effect.Effect<void>
}

const installHint = "redis-server is not installed; install it (Debian: apt-get install -y redis-server)"

/** Whether `redis-server --version` runs. */
const runs = (): boolean => {
  const probe = ChildProcess.spawnSync("redis-server", ["--version"], { stdio: "ignore" })
  return probe.error === undefined && probe.status === 0
}

/** Installs `redis-server` from Debian's packages, when this process may (root, with apt-get). */
const installFromDebian = (): boolean => {
  if (process.getuid?.() !== 0 || ChildProcess.spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0) {
    return false
  }
  process.stderr.write("redis-server is not installed: installing it from Debian's packages\n")
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  const update = ChildProcess.spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", env })
  const install = update.status === 0 &&
    ChildProcess.spawnSync("apt-get", ["install", "-y", "-qq", "redis-server"], { stdio: "ignore", env }).status === 0
  return install && runs()
}

/**
 * Whether `redis-server` can be run here, installing it from Debian's packages when it is missing
 * and this process may (root, with apt-get). When it still cannot, this throws under `CI=true`
 * (the suite must fail, not skip) and otherwise warns on stderr and returns false, for
 * `describe.runIf`.
 *
 * @since 0.0.0
 * @category constructors
 */
export const serverAvailable = (): boolean => {
  if (runs() || installFromDebian()) return true
  if (process.env.CI === "true") throw new Error(`${installHint} (CI=true: failing instead of skipping)`)
  process.stderr.write(`\n!!! ${installHint}: the Redis tests are SKIPPED !!!\n\n`)
  return false
}

/** Answers `PING` with `+PONG` within `timeoutMillis`. */
const ping = (port: number, timeoutMillis: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMillis, () => done(false))
    socket.on("error", () => done(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
  })

/** Waits up to 5 seconds for the server on `port` to answer. */
const awaitReady = (port: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 250; attempt++) {
      if (yield* Effect.promise(() => ping(port, 200))) return
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(new Error(`redis-server on port ${port} did not answer PING within 5 seconds`))
  })

/** Spawns `redis-server` on `port`; a missing binary is a defect naming the fix. */
const spawn = (port: number): Effect.Effect<ChildProcess.ChildProcess> =>
  Effect.callback<ChildProcess.ChildProcess>((resume) => {
    const child = ChildProcess.spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" }
    )
    child.once(
      "error",
      (error) =>
        resume(Effect.die(new Error((error as NodeJS.ErrnoException).code === "ENOENT" ? installHint : error.message)))
    )
    child.once("spawn", () => resume(Effect.succeed(child)))
  })

/** Kills `child` and waits for its exit. */
const killProcess = (child: ChildProcess.ChildProcess): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

/**
 * Starts a server for the life of the scope (see the module's comment).
 *
 * @since 0.0.0
 * @category constructors
 */
export const server: Effect.Effect<Server, never, Scope.Scope> = Effect.gen(function*() {
  const port = yield* Loopback.closedPort
  const start = Effect.tap(spawn(port), () => awaitReady(port))
  let child = yield* start
  yield* Effect.addFinalizer(() => killProcess(child))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: Effect.suspend(() => killProcess(child)),
    restart: Effect.map(start, (started) => {
      child = started
    })
  }
})

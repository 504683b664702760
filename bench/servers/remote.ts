/**
 * The bench process's handle on the server process: started on first use, killed when the bench
 * ends.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"
import { progress } from "../harness.js"
import type { ChildMessage, CounterSnapshot, ParentMessage, ServerInfo } from "./protocol.js"

const childPath = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "child.ts")

/** A running server process. */
export interface Remote {
  readonly info: ServerInfo
  /** The simulator's counters now. */
  readonly counters: Effect.Effect<CounterSnapshot>
  /** CPU time the server process has used so far, user + system, microseconds. */
  readonly cpuMicros: Effect.Effect<number>
}

/** Token requests (login and refresh, any outcome) counted by the simulator. */
export const tokenRequests = (counters: CounterSnapshot): number =>
  [counters.requests["login"] ?? {}, counters.requests["refresh"] ?? {}]
    .flatMap((byOutcome) => Object.values(byOutcome))
    .reduce((a, b) => a + b, 0)

const start: Effect.Effect<Remote, Error, Scope.Scope> = Effect.gen(function*() {
  yield* progress("starting the server process (simulator and minimal node:https server)")
  // The child inherits this process's execArgv, so the tsx loader too.
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => ChildProcess.fork(childPath, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] })),
    // Disconnecting lets the child exit on its own (and write its --cpu-prof profile); kill it if it lingers.
    (child) =>
      Effect.callback<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        const timer = setTimeout(() => child.kill(), 5_000)
        child.once("exit", () => {
          clearTimeout(timer)
          resume(Effect.void)
        })
        if (child.connected) child.disconnect()
        else child.kill()
      })
  )
  const info = yield* Effect.callback<ServerInfo, Error>((resume) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type === "ready") resume(Effect.succeed(message.info))
    }
    const onExit = (code: number | null) => resume(Effect.fail(new Error(`server process exited (${code})`)))
    child.on("message", onMessage)
    child.once("exit", onExit)
    return Effect.sync(() => {
      child.off("message", onMessage)
      child.off("exit", onExit)
    })
  }).pipe(
    Effect.timeoutOrElse({
      duration: "60 seconds",
      orElse: () => Effect.fail(new Error("server process did not start"))
    })
  )
  let next = 0
  const ask = <A>(type: ParentMessage["type"], answer: (message: ChildMessage) => A | undefined) =>
    Effect.callback<A>((resume) => {
      const id = ++next
      const onMessage = (message: ChildMessage) => {
        const value = "id" in message && message.id === id ? answer(message) : undefined
        if (value !== undefined) {
          child.off("message", onMessage)
          resume(Effect.succeed(value))
        }
      }
      child.on("message", onMessage)
      child.send({ type, id })
      return Effect.sync(() => child.off("message", onMessage))
    })
  const counters = ask("counters", (message) => message.type === "counters" ? message.counters : undefined)
  const cpuMicros = ask("cpu", (message) => message.type === "cpu" ? message.micros : undefined)
  yield* progress(`server process ${info.pid}: simulator ${info.simulator}, minimal ${info.minimal}`)
  return { info, counters, cpuMicros }
})

/** The server process, started on first use (so that `--only hot-path` starts none). */
export class Servers
  extends Context.Service<Servers, { readonly get: Effect.Effect<Remote, Error> }>()("bench/Servers")
{
  static readonly layer: Layer.Layer<Servers> = Layer.effect(
    Servers,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const cached = yield* Effect.cached(start.pipe(Effect.provideService(Scope.Scope, scope)))
      return { get: cached }
    })
  )
}

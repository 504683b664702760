/**
 * Stops the CLI when the command that launched it goes away. `pnpm simulator` runs
 * `pnpm → sh -c → tsx → node`; a SIGTERM sent to pnpm kills pnpm (and sh) but reaches neither
 * tsx nor this process, which would keep the port busy. So, on Linux, the CLI watches the
 * launcher processes above it and stops cleanly when one of them exits.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"

const launcher = /(^|[/\s])(pnpm|npm|npx|yarn|tsx)(\.c?js|\.mjs)?(\s|$)|^(sh|bash|dash|zsh)\s+-c\s|cli\.mjs/

const read = (pid: number): { readonly ppid: number; readonly cmdline: string } | undefined => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // Field 4 is the parent pid; the command name (field 2) may contain spaces, so split after ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
    const cmdline = Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()
    return { ppid, cmdline }
  } catch {
    return undefined
  }
}

/**
 * The launcher processes above this one: the closest ancestors whose command line is a package
 * manager, `tsx` or `sh -c`, stopping at the first that is not (the user's shell). Empty where
 * `/proc` does not exist.
 */
const launchers = (): ReadonlyArray<number> => {
  const chain: Array<number> = []
  let pid = process.ppid
  while (pid > 1 && chain.length < 8) {
    const info = read(pid)
    if (info === undefined || !launcher.test(info.cmdline)) break
    chain.push(pid)
    pid = info.ppid
  }
  return chain
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Completes when one of the launcher processes has exited; never completes if there are none.
 *
 * @internal
 */
export const orphaned: Effect.Effect<void> = Effect.suspend(() => {
  const watched = launchers()
  if (watched.length === 0) return Effect.never
  return Effect.sync(() => watched.every(alive)).pipe(
    Effect.repeat({ schedule: Schedule.spaced("500 millis"), while: (allAlive) => allAlive }),
    Effect.asVoid
  )
})

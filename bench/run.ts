/**
 * `pnpm bench`: runs every figure (or those named with `--only a,b`), prints one table to stdout,
 * writes `bench/results.json`. Progress goes to stderr. Not part of `pnpm test`: no timing is ever
 * asserted in the test suite.
 */
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import { figure as fleetFlight } from "./figures/fleetFlight.js"
import { figure as fleetHotPath } from "./figures/fleetHotPath.js"
import { figure as herd } from "./figures/herd.js"
import { figure as hotPath } from "./figures/hotPath.js"
import { figure as memory } from "./figures/memory.js"
import { figure as peer } from "./figures/peer.js"
import { figure as refreshCost } from "./figures/refreshCost.js"
import { figure as signedCalls } from "./figures/signedCalls.js"
import { figure as simulator } from "./figures/simulator.js"
import type { Figure, FigureResult } from "./harness.js"
import { progress, round } from "./harness.js"
import { Servers } from "./servers/remote.js"
import { quiet } from "./support.js"

const here = Path.dirname(Url.fileURLToPath(import.meta.url))

// CPU-bound figures first, while nothing else has run in the process; then the network ones.
const figures: ReadonlyArray<Figure<Servers>> = [
  hotPath,
  peer,
  memory,
  herd,
  signedCalls,
  refreshCost,
  simulator,
  fleetHotPath,
  fleetFlight
]

const argValue = (name: string): string | undefined => {
  const index = process.argv.indexOf(name)
  return index === -1 ? undefined : process.argv[index + 1]
}

const machine = () => {
  let cpu = Os.cpus()[0]?.model ?? "unknown"
  try {
    const info = Fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)
    if (info?.[1] !== undefined) cpu = info[1].trim()
  } catch {
    // not Linux: keep what os.cpus() says
  }
  return {
    cpu,
    cores: Os.availableParallelism(),
    memoryGiB: round(Os.totalmem() / 2 ** 30, 3),
    node: process.version,
    platform: `${process.platform} ${Os.release()} ${process.arch}`
  }
}

const cell = (value: unknown): string => String(value)

const table = (results: ReadonlyArray<FigureResult>): string => {
  const header = ["figure", "ours", "baseline", "unit", "ratio", "target", "measured", "pass"]
  const rows = results.map((r) => [
    r.name,
    cell(r.ours),
    cell(r.baseline),
    r.unit,
    cell(r.ratio),
    r.target,
    r.measured ?? `ratio ${r.ratio}`,
    r.pass === null ? "(report)" : r.pass ? "yes" : "NO"
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n")
}

const main = Effect.gen(function*() {
  const only = argValue("--only")?.split(",").map((s) => s.trim())
  const selected = only === undefined ? figures : figures.filter((f) => only.includes(f.id))
  if (selected.length === 0) {
    return yield* Effect.fail(`no figure among: ${figures.map((f) => f.id).join(", ")}`)
  }
  const startedAt = new Date()
  const start = performance.now()
  const results: Array<FigureResult> = []
  for (const figure of selected) {
    const figureStart = performance.now()
    const result = yield* figure.run
    results.push(result)
    yield* progress(
      `${figure.id}: ratio ${result.ratio} (${result.target}) ${
        result.pass === null ? "reported" : result.pass ? "pass" : "FAIL"
      } in ${round((performance.now() - figureStart) / 1000, 3)} s`
    )
  }
  const seconds = round((performance.now() - start) / 1000, 3)
  const output = {
    startedAt: startedAt.toISOString(),
    durationSeconds: seconds,
    machine: machine(),
    command: only === undefined ? "pnpm bench" : `pnpm bench --only ${only.join(",")}`,
    figures: results
  }
  const file = argValue("--out") ?? Path.join(here, "results.json")
  Fs.writeFileSync(file, JSON.stringify(output, null, 2) + "\n")
  process.stdout.write(`${table(results)}\n\n`)
  process.stdout.write(
    `${output.machine.cpu}, ${output.machine.cores} cores, Node ${output.machine.node}; ${seconds} s; ${
      Path.relative(process.cwd(), file)
    }\n`
  )
  const failed = results.filter((r) => r.pass === false)
  if (failed.length > 0) {
    process.stdout.write(`missed: ${failed.map((r) => r.name).join(", ")}\n`)
  }
})

Effect.runPromise(main.pipe(Effect.provide(Servers.layer), Effect.provide(quiet))).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[bench] failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  }
)

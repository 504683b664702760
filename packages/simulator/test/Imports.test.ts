/**
 * The module graph: `internal/` imports the public modules for types only, and no chain of value
 * imports between the package's own modules comes back to where it started.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"

const src = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "src")

const modules = Fs.readdirSync(src, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.split(Path.sep).join("/"))

/** The package's own modules that `file` imports or re-exports values from (`import type` left out). */
const valueImports = (file: string): ReadonlyArray<string> => {
  const text = Fs.readFileSync(Path.join(src, file), "utf8")
  // An import's names hold no quote, so the match stops at the first specifier after `import`.
  const statements = text.matchAll(/^(?:import|export)\s+(type\s+)?[\w\s*{},]*?from\s+"(\.[^"]+)\.js"/gm)
  return Array.from(statements)
    .filter(([, typeOnly]) => typeOnly === undefined)
    .map(([, , specifier]) => Path.posix.join(Path.posix.dirname(file), `${specifier}.ts`))
}

const graph = new Map(modules.map((file) => [file, valueImports(file)]))

/** A chain of value imports from `file` back to a module already on `path`, if there is one. */
const cycleFrom = (file: string, path: ReadonlyArray<string>): ReadonlyArray<string> | undefined => {
  if (path.includes(file)) return [...path.slice(path.indexOf(file)), file]
  for (const next of graph.get(file) ?? []) {
    const cycle = cycleFrom(next, [...path, file])
    if (cycle !== undefined) return cycle
  }
  return undefined
}

describe("imports", () => {
  it("internal modules import the public modules for types only", () => {
    const internal = modules.filter((file) => file.startsWith("internal/"))
    assert.isAbove(internal.length, 0)
    for (const file of internal) {
      const fromPublic = (graph.get(file) ?? []).filter((target) => !target.startsWith("internal/"))
      assert.deepStrictEqual(fromPublic, [], file)
    }
  })

  it("no cycle of value imports", () => {
    for (const file of modules) {
      assert.isUndefined(cycleFrom(file, [])?.join(" -> "), file)
    }
  })
})

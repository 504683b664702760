/**
 * `pnpm example <name>`: runs `examples/<name>.ts`. With no name, or an unknown one, lists the
 * examples and exits with status 2.
 */
import { readdirSync } from "node:fs"

const runner = new Set(["run", "demo", "demo-fleet"])
const available = readdirSync(new URL(".", import.meta.url))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.slice(0, -3))
  .filter((name) => !name.includes(".")) // vitest.config, declaration files
  .filter((name) => !runner.has(name))
  .sort()

const name = process.argv[2]
if (name === undefined || !available.includes(name)) {
  process.stderr.write(
    `${name === undefined ? "Name an example" : `No example named "${name}"`}. Available: ${available.join(", ")}\n`
  )
  process.exit(2)
}
await import(new URL(`./${name}.ts`, import.meta.url).href)

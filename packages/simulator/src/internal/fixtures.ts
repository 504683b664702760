/**
 * Where the package lives, and in it the committed TEST-ONLY certificates. Found from the package's
 * own root (the nearest `package.json` of `@iocm/simulator` above this module), so the same code
 * finds them from `src/` in the repository and from `dist/` in an app's `node_modules`.
 *
 * @internal
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"

const packageName = "@iocm/simulator"

const isPackageRoot = (directory: string): boolean => {
  try {
    const manifest = JSON.parse(Fs.readFileSync(Path.join(directory, "package.json"), "utf8")) as { name?: unknown }
    return manifest.name === packageName
  } catch {
    return false
  }
}

const findPackageRoot = (from: string): string => {
  for (let directory = from;; directory = Path.dirname(directory)) {
    if (isPackageRoot(directory)) return directory
    if (Path.dirname(directory) === directory) break
  }
  // Not found (a bundler moved this module): `src/internal` and `dist/internal` are both two levels down.
  return Path.resolve(from, "..", "..")
}

const packageRoot: string = findPackageRoot(Path.dirname(Url.fileURLToPath(import.meta.url)))

/** @internal */
export const fixturesDirectory: string = Path.join(packageRoot, "fixtures") + Path.sep

/**
 * The `version` of the package's own `package.json`.
 *
 * @internal
 */
export const packageVersion = (): string => {
  const manifest = JSON.parse(Fs.readFileSync(Path.join(packageRoot, "package.json"), "utf8")) as { version?: unknown }
  return typeof manifest.version === "string" ? manifest.version : "unknown"
}

/**
 * Vitest's global setup for `@iocm/cli`: builds the package and the packages it uses into their
 * `dist/` (`tsc -b packages/cli/tsconfig.build.json`), so that the tests run `dist/bin.js` with
 * plain `node`, as an installed `iocm` runs.
 */
import * as ChildProcess from "node:child_process"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

// Not from `./iocm.js`: a global setup is loaded before the workspace's `@iocm/source` condition
// applies, so it must not import a workspace package (in a fresh clone their `dist/` does not exist yet).
/** The repository's root. */
export const root = fileURLToPath(new URL("../../../..", import.meta.url))

export default function build(): void {
  const tsc = Path.join(Path.dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc")
  ChildProcess.execFileSync(process.execPath, [tsc, "-b", "packages/cli/tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit"
  })
}

// `pnpm docs`: the API reference, generated from the doc comments with `@effect/docgen`, as the Effect
// repositories do. Each package with a `docgen.json` runs docgen in its own folder, which checks that
// every export has `@since`, type-checks and runs every `@example` against the package's sources,
// and writes one Markdown page per module to `packages/<name>/docs/modules`. The pages are then
// gathered into `docs/` at the root: a GitHub Pages (Jekyll, just-the-docs) site, one section per
// package. Any failure in any package fails the whole command. `docs/` folders are git-ignored.
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const bin = Path.join(root, "node_modules", ".bin")
const out = Path.join(root, "docs")

const packages = Fs.readdirSync(Path.join(root, "packages"))
  .filter((dir) => Fs.existsSync(Path.join(root, "packages", dir, "docgen.json")))
  .sort((a, b) => order(a) - order(b))

// core first, then the layers in the order an app composes them; any other package after them
function order(dir) {
  const known = ["core", "http", "cache", "simulator"].indexOf(dir)
  return known === -1 ? 100 : known
}

function readPackageJson(dir) {
  return JSON.parse(Fs.readFileSync(Path.join(root, "packages", dir, "package.json"), "utf8"))
}

// docgen spawns `tsc` and `tsx` by name: the workspace's own, whatever the caller's PATH holds. The
// examples it runs import `@iocm/*` from their sources (the `@iocm/source` export condition, also in
// each `docgen.json` for the typecheck), so no build is needed.
const nodeOptions = [process.env.NODE_OPTIONS, "--conditions=@iocm/source"].filter(Boolean).join(" ")
function docgen(dir) {
  return new Promise((resolve) => {
    const child = spawn(Path.join(bin, "docgen"), [], {
      cwd: Path.join(root, "packages", dir),
      env: { ...process.env, NODE_OPTIONS: nodeOptions, PATH: `${bin}${Path.delimiter}${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("error", (error) => resolve({ dir, ok: false, output: `${output}${error.message}\n` }))
    // a failure exits non-zero; the success line is checked too, so a silent early exit is no success
    child.on(
      "close",
      (code) => resolve({ dir, ok: code === 0 && output.includes("Docs generation succeeded!"), output })
    )
  })
}

// docgen 0.5's Prettier turns the opening `---` of a page's front matter into `***`; put it back.
function fixFrontMatter(content, parent) {
  return content
    .replace(/^\*\*\*\n\n/, "---\n")
    .replace(/^parent: Modules$/m, `parent: "${parent}"`)
}

function copyModules(dir, name) {
  const from = Path.join(root, "packages", dir, "docs", "modules")
  const to = Path.join(out, dir)
  Fs.mkdirSync(to, { recursive: true })
  for (const file of Fs.readdirSync(from)) {
    // docgen's own "Modules" index page is replaced by the package's
    if (file === "index.md") continue
    const content = Fs.readFileSync(Path.join(from, file), "utf8")
    Fs.writeFileSync(Path.join(to, file), fixFrontMatter(content, name))
  }
}

function pageIndex(dir, name, description, navOrder) {
  return `---
title: "${name}"
has_children: true
nav_order: ${navOrder}
---

# ${name}

${description}
`
}

function home(entries) {
  const rows = entries.map(({ description, dir, name }) => `| [\`${name}\`](${dir}) | ${description} |`)
  return `---
title: Home
nav_order: 1
---

# iocm API reference

Generated from the doc comments of each package by \`pnpm docs\`. Start with the repository's
README for the quick start and the \`IOCM_*\` variables.

| package | what it gives you |
|---|---|
${rows.join("\n")}
`
}

const config = `title: iocm
remote_theme: mikearnaldi/just-the-docs

# Enable or disable the site search
search_enabled: true
`

const results = await Promise.all(packages.map(docgen))
let failed = false
for (const { dir, ok, output } of results) {
  if (!ok) {
    failed = true
    process.stderr.write(`\n@iocm/${dir}: docgen failed\n${output}\n`)
  }
}
if (failed) {
  process.stderr.write("docs: failed (see above); nothing written to docs/\n")
  process.exit(1)
}

Fs.rmSync(out, { recursive: true, force: true })
Fs.mkdirSync(out, { recursive: true })
const entries = packages.map((dir) => {
  const { description, name } = readPackageJson(dir)
  return { description, dir, name }
})
entries.forEach(({ description, dir, name }, i) => {
  copyModules(dir, name)
  Fs.writeFileSync(Path.join(out, dir, "index.md"), pageIndex(dir, name, description, i + 2))
})
Fs.writeFileSync(Path.join(out, "_config.yml"), config)
Fs.writeFileSync(Path.join(out, "index.md"), home(entries))
process.stdout.write(`docs: ${packages.map((dir) => `@iocm/${dir}`).join(", ")} written to docs/\n`)

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`) by self time: the top frames, and the
 * same grouped by package (effect, with its HTTP modules apart as `effect/http`, @effect/platform-node, undici,
 * node internals, our packages…).
 *
 *   node --conditions=@iocm/source --cpu-prof --cpu-prof-dir=bench --import tsx bench/run.ts --only refresh-cost
 *   npx tsx bench/profile.ts bench/CPU.….cpuprofile [top]
 */
import * as Fs from "node:fs"

interface Node {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
  }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** effect's HTTP client and server (`effect/http/*`), told apart from the rest of effect (runtime, schema…). */
const effectHttp = /node_modules\/effect\/(?:dist|src)\/http\//

const packageOf = (url: string): string => {
  if (url === "") return "(native / V8)"
  if (url.startsWith("node:")) return "node internals"
  if (effectHttp.test(url)) return "effect/http"
  const pnpm = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (pnpm?.[1] !== undefined) return pnpm[1]
  const modules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (modules?.[1] !== undefined) return modules[1]
  const ours = url.match(/\/(packages\/[^/]+|bench)\//)
  if (ours?.[1] !== undefined) return ours[1]
  return url
}

const shortUrl = (url: string): string =>
  url.replace(/^file:\/\//, "").replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(
    /.*\/work\/main\//,
    ""
  )

const main = () => {
  const file = process.argv[2]
  if (file === undefined) {
    process.stderr.write("usage: tsx bench/profile.ts <file.cpuprofile> [top]\n")
    process.exit(2)
  }
  const top = Number(process.argv[3] ?? 25) || 25
  const profile = JSON.parse(Fs.readFileSync(file, "utf8")) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const frames = new Map<string, number>()
  const packages = new Map<string, number>()
  for (const [id, micros] of self) {
    const node = byId.get(id)!
    const { functionName, lineNumber, url } = node.callFrame
    const key = `${functionName || "(anonymous)"}  ${shortUrl(url)}:${lineNumber + 1}`
    frames.set(key, (frames.get(key) ?? 0) + micros)
    const pkg = packageOf(url)
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros)
  }
  // inclusive time: each sample counts once for every distinct frame on its stack
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const keyOf = (node: Node) =>
    `${node.callFrame.functionName || "(anonymous)"}  ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
  const inclusive = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at)!)
      if (!seen.has(key)) {
        seen.add(key)
        inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
      }
    }
  })
  const pct = (micros: number) => `${(100 * micros / total).toFixed(1).padStart(5)}%`
  const print = (title: string, entries: Map<string, number>, n: number) => {
    process.stdout.write(`\n${title}\n`)
    for (const [key, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      process.stdout.write(`${pct(micros)}  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}\n`)
    }
  }
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s of samples\n`)
  print("self time by package", packages, 15)
  print(`top ${top} frames by self time`, frames, top)
  if (process.argv.includes("--inclusive")) {
    print(
      `top ${top} frames by inclusive time (ours, effect/http, platform-node and undici only)`,
      new Map(
        [...inclusive].filter(([key]) =>
          /packages\/|effect\/(?:dist|src)\/http\/|@effect\/platform|undici|bench\//.test(key)
        )
      ),
      top
    )
  }
}

main()

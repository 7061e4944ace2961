#!/usr/bin/env bash
# The project's test command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product edge-node
swift build -c release --product cloud-node
swift test 2>&1 | tee .build/test-output.txt

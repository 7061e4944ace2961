#!/usr/bin/env bash
# The project's test command: installs what is missing, builds (release daemons, debug for the
# tests, whose integration half starts the debug daemons as processes) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The C kernels alone, every path: natively and, for the NEON paths, under qemu-aarch64 (seconds).
scripts/test-kernels.sh
swift build -c release --product edge-node
swift build -c release --product cloud-node
swift build -c release --product split-bench
# README, BENCHMARKS and docs/: every relative link resolves; every split-bench command that
# BENCHMARKS.md quotes exists with its options.
scripts/check-links.sh
scripts/check-bench-commands.sh .build/release/split-bench
swift build
# deploy/: manifests against the Kubernetes schemas, units, compose and configurations against
# the daemons just built.
scripts/validate-deploy.sh .build/release
# Serial: several suites start servers and daemons; in parallel on two cores their timing checks
# and loopback ports compete.
swift test --no-parallel

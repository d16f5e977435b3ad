#!/usr/bin/env bash
# The test command (README, CI): unit tests, lavapipe and Xvfb integration tests, and the
# kernel build check. Needs the packages .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-targets "$@"

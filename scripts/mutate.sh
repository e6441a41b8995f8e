#!/usr/bin/env bash
# Full Wireshark-style mutation run: corrupted copies of every capture in captures/ (and of
# small generated ones) through `itlscope analyze`; no panic, no hang, exit 0 or 1 with a
# one-line error. The logic lives in tests/mutation.rs (cargo test runs 100 copies).
#
# usage: scripts/mutate.sh [COUNT] [SEED]      (defaults: 1000 copies, the test's fixed seed)
# Failing inputs are kept under target/tmp/mutation-failures/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v editcap >/dev/null 2>&1 || echo "mutate.sh: editcap missing, only truncations and overwrites will run" >&2
export ITLSCOPE_MUTATIONS="${1:-1000}"
if [ -n "${2:-}" ]; then export ITLSCOPE_MUTATION_SEED="$2"; fi
exec cargo test --release --test mutation -- --nocapture

#!/bin/bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation (the flags cargo-fuzz
# passes, without a sanitizer: the crate has no unsafe code) and runs the given targets one
# after the other, niced, each for its seconds. Works where cargo-fuzz is not installed.
#
#   fuzz/run.sh device_tl_info:600 prt_archive:600
#
# Findings land in fuzz/artifacts/<target>/: copy them into tests/fuzz_regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps the flags off build scripts and proc macros.
nice -n 10 cargo +nightly build --release --target "$triple"
bin="target/$triple/release"
for spec in "$@"; do
  t=${spec%%:*}
  secs=${spec##*:}
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t for ${secs}s from $(date -u +%H:%M:%S)"
  nice -n 10 "$bin/$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" "corpus/$t" "seeds/$t" 2>&1 |
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY|panicked' || true
done

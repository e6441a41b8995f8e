#!/usr/bin/env bash
# Fleet-scale benchmark (issue 20): peak memory and time of `itlscope analyze SPAN` (the JSON,
# the text report, `--brief`) on generated voice-VLAN SPANs of 300, 5,000 and 50,000 phones,
# against a baseline binary and `cat`, as ratios.
#
# usage: benches/fleet_scale.sh [--phones 300,5000,50000] [--runs N] [--reports json,text,brief]
#                               [--baseline BIN | --baseline-rev REV]
#
#   --phones        phone counts (default 300,5000,50000; 50,000 phones is an 810 MB capture
#                   that takes ~20 min to generate on a busy 2-core machine)
#   --runs          runs per tool, best time and its peak RSS kept (default 1)
#   --reports       which reports to measure (default json): json = `--json`, text = the
#                   readable report (no option), brief = `--brief`, redact = `--redact` (the
#                   text report redacted), redact-json = `--redact --json`, multi = the text
#                   report with `-o FILE --html FILE --annotate FILE` (the three files go to
#                   $BENCH_DIR/side.*, are compared with the baseline's too, then deleted)
#   --baseline BIN  an itlscope binary to compare with (e.g. one built before a change)
#   --baseline-rev  a git revision to build the baseline from (git archive into
#                   $BENCH_DIR/base-REV, its own target dir; a full release build)
#   without either, the baseline row is left out and only `cat` is the reference.
#   ANALYZE_ARGS    extra options for both analyze runs, e.g. "--max-phones 60000
#                   --max-records 400000" (at 50,000 phones the default limits diagnose only
#                   the first 10,000 phones and keep 100,000 transfers)
#
# For each phone count it
#   1. generates $BENCH_DIR/span-N.pcap with make-span-capture (seed 1) if missing
#      (BENCH_DIR defaults to /tmp/itlscope-fleet, outside the repository);
#   2. reads it once with `cat` so the page cache is warm (all figures WARM);
#   3. runs under /usr/bin/time (GNU) for wall time and peak RSS:
#        cat FILE > /dev/null
#      and for each report R of --reports (OPTS = --json, nothing, or --brief):
#        BASELINE analyze FILE OPTS -q > base-N.R     (if a baseline is given)
#        itlscope analyze FILE OPTS -q > new-N.R      (this tree's release build)
#   4. prints: seconds, peak RSS (MiB), report size, RSS per phone, the new/baseline ratios of
#      time and RSS, whether the two reports are byte-identical, and the memory target
#      (5,000 phones <= 64 MiB, 50,000 <= 256 MiB);
#   5. deletes the reports over 100 MB once compared (KEEP_JSON=1 keeps them): at 50,000
#      phones the JSON is 1.3 GB.
# Needs: cargo, GNU /usr/bin/time, cmp.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
bench_dir="${BENCH_DIR:-/tmp/itlscope-fleet}"
phones="300,5000,50000"
runs=1
reports="json"
baseline=""
baseline_rev=""

while [ $# -gt 0 ]; do
  case "$1" in
    --phones) phones="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --reports) reports="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --baseline-rev) baseline_rev="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "fleet_scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$bench_dir"
# The JSON's `generated.date` is the time of the run: fixed, so that two runs can be compared.
export ITLSCOPE_FIXED_DATE="${ITLSCOPE_FIXED_DATE:-bench}"
target="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$repo" && cargo build --release --quiet --bin itlscope -p itlscope \
  && cargo build --release --quiet -p itlscope-gen --bin make-span-capture)
new="$target/release/itlscope"
gen="$target/release/make-span-capture"

if [ -n "$baseline_rev" ]; then
  src="$bench_dir/base-$baseline_rev"
  if [ ! -x "$src/target/release/itlscope" ]; then
    rm -rf "$src"; mkdir -p "$src"
    git -C "$repo" archive "$baseline_rev" | tar -x -C "$src"
    (cd "$src" && CARGO_TARGET_DIR="$src/target" cargo build --release --quiet --bin itlscope -p itlscope)
  fi
  baseline="$src/target/release/itlscope"
fi

# measure LABEL OUT CMD...: best wall time of $runs runs; sets SECS and RSS_KB.
measure() {
  local out="$2"; shift 2
  local best="" best_rss="" i t
  for ((i = 0; i < runs; i++)); do
    t="$(mktemp)"
    /usr/bin/time -f "%e %M" -o "$t" "$@" > "$out"
    read -r s kb < "$t"; rm -f "$t"
    if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a<b)}'; then
      best="$s"; best_rss="$kb"
    fi
  done
  SECS="$best"; RSS_KB="$best_rss"
}

declare -A out_mb=()
# out_size FILE: its size in MB (remembered when the file was deleted).
out_size() {
  if [ -f "$1" ]; then awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", b/1e6}'; else echo "${out_mb[$1]:--}"; fi
}
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
row() { printf '%-7s %-9s %-9s %-6s %9s %9s %9s %11s %8s %8s %s\n' "$@"; }

row phones "file MB" tool report seconds "RSS MiB" "out MB" "KiB/phone" "t/base" "RSS/base" note
IFS=',' read -r -a counts <<< "$phones"
IFS=',' read -r -a kinds <<< "$reports"
for n in "${counts[@]}"; do
  cap="$bench_dir/span-$n.pcap"
  if [ ! -s "$cap" ]; then
    "$gen" --phones "$n" --seed 1 -o "$cap.tmp" > /dev/null
    mv "$cap.tmp" "$cap"
  fi
  size_mb="$(awk -v b="$(stat -L -c %s "$cap")" 'BEGIN{printf "%.1f", b/1e6}')"
  cat "$cap" > /dev/null

  measure cat /dev/null cat "$cap"
  row "$n" "$size_mb" cat - "$SECS" "$(mib "$RSS_KB")" - - - - ""

  for kind in "${kinds[@]}"; do
    case "$kind" in
      json) opts=(--json) ;;
      text) opts=() ;;
      brief) opts=(--brief) ;;
      redact) opts=(--redact) ;;
      redact-json) opts=(--redact --json) ;;
      multi) opts=(-o "$bench_dir/side.json" --html "$bench_dir/side.html" --annotate "$bench_dir/side.pcapng") ;;
      *) echo "fleet_scale.sh: unknown report $kind (json, text, brief, redact, redact-json or multi)" >&2; exit 2 ;;
    esac
    sides=(side.json side.html side.pcapng)
    base_out="$bench_dir/base-$n.$kind"; new_out="$bench_dir/new-$n.$kind"
    base_secs=""; base_kb=""
    if [ -n "$baseline" ]; then
      # shellcheck disable=SC2086 # ANALYZE_ARGS is a list of options
      measure base "$base_out" "$baseline" analyze "$cap" "${opts[@]}" -q ${ANALYZE_ARGS:-}
      base_secs="$SECS"; base_kb="$RSS_KB"
      if [ "$kind" = multi ]; then
        for f in "${sides[@]}"; do mv "$bench_dir/$f" "$bench_dir/base-$n.$f"; done
      fi
      row "$n" "$size_mb" baseline "$kind" "$SECS" "$(mib "$RSS_KB")" "$(out_size "$base_out")" \
        "$(awk -v k="$RSS_KB" -v n="$n" 'BEGIN{printf "%.1f", k/n}')" - - ""
    fi

    # shellcheck disable=SC2086
    measure new "$new_out" "$new" analyze "$cap" "${opts[@]}" -q ${ANALYZE_ARGS:-}
    note=""
    if [ -n "$baseline" ]; then
      if cmp -s "$base_out" "$new_out"; then
        note="$kind identical"
      else
        note="$kind DIFFERS"
      fi
      if [ "$kind" = multi ]; then
        for f in "${sides[@]}"; do
          cmp -s "$bench_dir/base-$n.$f" "$bench_dir/$f" || note="$note; $f DIFFERS"
        done
      fi
    fi
    if [ "$kind" = multi ]; then
      for f in "${sides[@]}"; do rm -f "$bench_dir/base-$n.$f" "$bench_dir/$f"; done
    fi
    if [ -z "${KEEP_JSON:-}" ]; then
      for f in "$base_out" "$new_out"; do
        if [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 100000000 ]; then
          out_mb["$f"]="$(awk -v b="$(stat -c %s "$f")" 'BEGIN{printf "%.1f", b/1e6}')"
          rm -f "$f"
        fi
      done
    fi
    limit=""
    [ "$n" -ge 5000 ] && limit=64
    [ "$n" -ge 50000 ] && limit=256
    if [ -n "$limit" ]; then
      if [ "$RSS_KB" -le $((limit * 1024)) ]; then note="$note; <= $limit MiB ok"; else note="$note; over $limit MiB"; fi
    fi
    row "$n" "$size_mb" itlscope "$kind" "$SECS" "$(mib "$RSS_KB")" "$(out_size "$new_out")" \
      "$(awk -v k="$RSS_KB" -v n="$n" 'BEGIN{printf "%.1f", k/n}')" \
      "$(ratio "$SECS" "$base_secs")" "$(ratio "$RSS_KB" "$base_kb")" "$note"
  done
done

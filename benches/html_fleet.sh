#!/usr/bin/env bash
# HTML report benchmark (issue 20): size of `itlscope analyze --html` for a generated SPAN of
# 300 and 5,000 phones, and how long headless Chromium takes to show it, beside a baseline
# (an empty page loaded the same way, which is the browser's own start-up cost).
#
# usage: benches/html_fleet.sh [--phones 300,5000] [--runs N]
#
# For each phone count it
#   1. generates $BENCH_DIR/span-N.pcap with make-span-capture (seed 1) if it is missing
#      (BENCH_DIR defaults to /tmp/itlscope-bench);
#   2. writes the report: `itlscope analyze span-N.pcap --quiet --html span-N.html`;
#   3. loads `span-N.html?measure` with `chromium --headless --dump-dom` --runs times (best
#      kept) and reads what the page measured itself (performance API, written on <html> by
#      the page's script under `?measure`): first contentful paint and load event, in ms
#      since navigation start;
#   4. prints: phones, HTML bytes, seconds to write it, wall seconds for the browser to load
#      and dump the page, that minus the empty-page baseline, first contentful paint, load.
# Needs: cargo, chromium, python3 (not for timing: only to read the attributes).
set -euo pipefail

PHONES=300,5000
RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --phones) PHONES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--phones 300,5000] [--runs N]" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/itlscope-bench}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$BENCH_DIR"
(cd "$ROOT" && cargo build --release --quiet --bin itlscope && \
  cargo build --release --quiet -p itlscope-gen --bin make-span-capture)
ITLSCOPE="$TARGET/release/itlscope"
GEN="$TARGET/release/make-span-capture"

now() { date +%s.%N; }

# Best wall time of $RUNS loads of URL $1; the last DOM dump goes to $2.
load() {
  local url="$1" dump="$2" best="" start end t
  for _ in $(seq "$RUNS"); do
    rm -rf "$BENCH_DIR/profile"
    start=$(now)
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --no-first-run --hide-scrollbars --window-size=1300,1000 \
      --user-data-dir="$BENCH_DIR/profile" --dump-dom "$url" >"$dump" 2>/dev/null
    end=$(now)
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

attr() { # attr NAME DUMP: data-NAME on <html>, or "-"
  python3 - "$1" "$2" <<'PY'
import re, sys
head = open(sys.argv[2], errors="replace").read(4000)
m = re.search(r'data-%s="(\d+)"' % re.escape(sys.argv[1]), head)
print(m.group(1) if m else "-")
PY
}

printf '<!DOCTYPE html><html><head><meta charset="utf-8"><title>empty</title></head><body><p>empty</p></body></html>\n' >"$BENCH_DIR/empty.html"
BASE=$(load "file://$BENCH_DIR/empty.html" "$BENCH_DIR/empty.dom")

printf '%-8s %12s %9s %10s %12s %8s %8s\n' phones html_bytes write_s browser_s minus_base_s fcp_ms load_ms
printf '%-8s %12s %9s %10.2f %12s %8s %8s\n' empty "$(stat -c %s "$BENCH_DIR/empty.html")" - "$BASE" 0 - -
for n in ${PHONES//,/ }; do
  cap="$BENCH_DIR/span-$n.pcap"
  [ -f "$cap" ] || "$GEN" --phones "$n" --seed 1 -o "$cap" 2>/dev/null
  html="$BENCH_DIR/span-$n.html"
  start=$(now)
  "$ITLSCOPE" analyze "$cap" --quiet --brief --html "$html" >/dev/null
  end=$(now)
  write=$(echo "$end - $start" | bc)
  t=$(load "file://$html?measure" "$BENCH_DIR/span-$n.dom")
  printf '%-8s %12s %9.2f %10.2f %12.2f %8s %8s\n' "$n" "$(stat -c %s "$html")" "$write" "$t" \
    "$(echo "$t - $BASE" | bc)" "$(attr first-contentful-paint-ms "$BENCH_DIR/span-$n.dom")" \
    "$(attr load-ms "$BENCH_DIR/span-$n.dom")"
done

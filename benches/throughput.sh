#!/usr/bin/env bash
# Throughput benchmark: itlscope against `cat` and tshark on the same generated capture.
#
# usage: benches/throughput.sh [--sizes 256M,1G,4G] [--format pcap|pcapng] [--runs N]
#                              [--tshark-prefix SIZE|full|none] [--parallel]
#
# For each size it
#   1. generates $BENCH_DIR/bench-SIZE.FORMAT with make-bench-capture if it is missing
#      (BENCH_DIR defaults to /tmp/itlscope-bench, outside the repository; deterministic seed 1);
#   2. reads the file once so the page cache is warm (all figures are WARM);
#   3. measures, each under /usr/bin/time -v for peak RSS, best wall time of --runs runs:
#        cat FILE > /dev/null
#        itlscope analyze FILE --json > /dev/null          (release build)
#        tshark -r PREFIX -q -Y "tftp || http || tls.handshake"
#      tshark runs ~100x slower, so by default it is measured on a prefix of the file
#      (the first packets up to --tshark-prefix bytes, cut with `editcap -r`) and its
#      throughput is computed per byte of that prefix; `--tshark-prefix full` runs it on the
#      whole file, `none` skips it;
#   --parallel adds a row `itlscope analyze FILE FILE` (the same file twice: two workers on
#      two cores; throughput counted over both copies);
#   4. prints a table: bytes, packets, seconds, GB/s, Mpps, peak RSS, and the ratios
#      itlscope/cat and itlscope/tshark (throughput ratios; > 1 means itlscope is faster).
#
# Sizes default to 256M,1G; add 4G explicitly (it needs 4 GiB of disk under BENCH_DIR and
# takes a while). Generated files are kept for the next run unless BENCH_CLEAN=1.
# Needs: cargo, /usr/bin/time (GNU), capinfos/editcap/tshark (Wireshark) for the tshark
# column and packet counts.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
bench_dir="${BENCH_DIR:-/tmp/itlscope-bench}"
sizes="256M,1G"
format="pcap"
runs=1
tshark_prefix="64M"
parallel=0

while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --tshark-prefix) tshark_prefix="$2"; shift 2 ;;
    --parallel) parallel=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "throughput.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ ! -x /usr/bin/time ]; then
  echo "throughput.sh: GNU time (/usr/bin/time) is required for peak RSS" >&2
  exit 2
fi
have_wireshark=1
for tool in tshark editcap capinfos; do
  command -v "$tool" >/dev/null 2>&1 || have_wireshark=0
done

to_bytes() {
  local s="$1" n unit
  n="${s%%[!0-9]*}"; unit="${s#"$n"}"
  case "$unit" in
    ""|B) echo "$n" ;;
    K|KiB) echo $((n << 10)) ;;
    M|MiB) echo $((n << 20)) ;;
    G|GiB) echo $((n << 30)) ;;
    *) echo "throughput.sh: bad size $s" >&2; exit 2 ;;
  esac
}

echo "building release binaries..." >&2
(cd "$repo" && cargo build --release --quiet --bin itlscope -p itlscope \
  && cargo build --release --quiet --bin make-bench-capture -p itlscope-gen)
target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
itlscope="$target_dir/release/itlscope"
generator="$target_dir/release/make-bench-capture"
mkdir -p "$bench_dir"

# measure LABEL OUTFILE CMD...: runs CMD --runs times, keeps the best wall time; sets
# M_SECS, M_RSS_KB and M_EXIT. Wall time by date(1) in ns; RSS from GNU time -v.
measure() {
  local label="$1" out="$2"; shift 2
  local best="" best_rss=0 exit_code=0 i start end secs rss tv
  tv="$(mktemp)"
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    set +e
    /usr/bin/time -v -o "$tv" "$@" >"$out" 2>"$out.stderr"
    exit_code=$?
    set -e
    end=$(date +%s%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best="$secs"
    fi
    [ "${rss:-0}" -gt "$best_rss" ] && best_rss="$rss"
  done
  rm -f "$tv"
  M_SECS="$best"; M_RSS_KB="$best_rss"; M_EXIT="$exit_code"
  if [ "$exit_code" -ne 0 ]; then
    echo "  $label exited $exit_code: $(head -c 300 "$out.stderr" | tr '\n' ' ')" >&2
  fi
}

# packets FILE: packet count, cached next to the file.
packets() {
  local file="$1" cache="$1.packets"
  if [ ! -s "$cache" ] || [ "$cache" -ot "$file" ]; then
    if [ "$have_wireshark" = 1 ]; then
      capinfos -M -c "$file" | awk -F': *' '/Number of packets/ { print $2 }' >"$cache"
    else
      echo 0 >"$cache"
    fi
  fi
  cat "$cache"
}

rows=()
row() { rows+=("$(printf '%-9s %-9s %13s %11s %9s %8s %8s %10s %9s %9s' "$@")"); }
row "size" "tool" "bytes" "packets" "seconds" "GB/s" "Mpps" "RSS(MiB)" "vs cat" "vs tshark"

gbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", b / s / 1e9; else print "-" }'; }
mpps() { awk -v p="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", p / s / 1e6; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

IFS=',' read -r -a size_list <<<"$sizes"
for size in "${size_list[@]}"; do
  file="$bench_dir/bench-$size.$format"
  if [ ! -s "$file" ]; then
    echo "generating $file..." >&2
    "$generator" --size "$size" --format "$format" --seed 1 -o "$file.tmp" >&2
    mv "$file.tmp" "$file"
  fi
  bytes=$(stat -c %s "$file")
  npackets=$(packets "$file")
  echo "== $size: $bytes bytes, $npackets packets (warm page cache)" >&2
  cat "$file" >/dev/null # warm-up

  measure cat /dev/null cat "$file"
  cat_secs=$M_SECS; cat_rss=$M_RSS_KB
  cat_gbps=$(gbps "$bytes" "$cat_secs")
  row "$size" "cat" "$bytes" "$npackets" "$cat_secs" "$cat_gbps" "$(mpps "$npackets" "$cat_secs")" "$(mib "$cat_rss")" "1.00" "-"

  measure itlscope "$bench_dir/analyze-$size.json" "$itlscope" analyze "$file" --json
  it_secs=$M_SECS; it_rss=$M_RSS_KB; it_exit=$M_EXIT
  it_gbps=$(gbps "$bytes" "$it_secs")
  [ "$it_exit" -ne 0 ] && it_gbps="-"

  ts_gbps="-"
  if [ "$have_wireshark" = 1 ] && [ "$tshark_prefix" != "none" ]; then
    ts_file="$file"
    if [ "$tshark_prefix" != "full" ] && [ "$(to_bytes "$tshark_prefix")" -lt "$bytes" ]; then
      ts_file="$bench_dir/bench-$size-prefix-$tshark_prefix.$format"
      if [ ! -s "$ts_file" ]; then
        n=$(awk -v p="$npackets" -v t="$(to_bytes "$tshark_prefix")" -v b="$bytes" \
          'BEGIN { printf "%d", p * t / b }')
        editcap -r "$file" "$ts_file" "1-$n" >&2
      fi
    fi
    ts_bytes=$(stat -c %s "$ts_file")
    ts_packets=$(packets "$ts_file")
    cat "$ts_file" >/dev/null
    measure tshark /dev/null tshark -r "$ts_file" -q -Y "tftp || http || tls.handshake"
    ts_gbps=$(gbps "$ts_bytes" "$M_SECS")
    ts_label="tshark"
    [ "$ts_file" != "$file" ] && ts_label="tshark*"
    row "$size" "$ts_label" "$ts_bytes" "$ts_packets" "$M_SECS" "$ts_gbps" \
      "$(mpps "$ts_packets" "$M_SECS")" "$(mib "$M_RSS_KB")" "$(ratio "$ts_gbps" "$cat_gbps")" "1.00"
  fi
  it_label="itlscope"
  [ "$it_exit" -ne 0 ] && it_label="itlscope!"
  row "$size" "$it_label" "$bytes" "$npackets" "$it_secs" "$it_gbps" \
    "$( [ "$it_exit" -eq 0 ] && mpps "$npackets" "$it_secs" || echo -)" "$(mib "$it_rss")" \
    "$(ratio "$it_gbps" "$cat_gbps")" "$(ratio "$it_gbps" "$ts_gbps")"
  if [ "$parallel" = 1 ]; then
    measure itlscope-x2 /dev/null "$itlscope" analyze "$file" "$file" --json
    row "$size" "itlscope×2" "$((2 * bytes))" "$((2 * npackets))" "$M_SECS" \
      "$(gbps "$((2 * bytes))" "$M_SECS")" "$(mpps "$((2 * npackets))" "$M_SECS")" \
      "$(mib "$M_RSS_KB")" "$(ratio "$(gbps "$((2 * bytes))" "$M_SECS")" "$cat_gbps")" "-"
  fi
  if [ "${BENCH_CLEAN:-0}" = 1 ]; then
    rm -f "$file" "$file.packets" "$bench_dir"/bench-"$size"-prefix-*
  fi
done

echo
echo "itlscope throughput benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, warm page cache, format $format, best of $runs)"
printf '%s\n' "${rows[@]}"
echo "tshark* = measured on a prefix of the file (--tshark-prefix $tshark_prefix); GB/s per byte of that prefix."
echo "itlscope! = analyze exited non-zero (see stderr above): time not comparable."
echo "vs cat / vs tshark = throughput ratio (higher is better for itlscope)."

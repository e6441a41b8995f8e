#!/usr/bin/env bash
# Throughput benchmark: itlscope against `cat` and tshark on the same generated capture.
#
# usage: benches/throughput.sh [--mix ordinary,tls-heavy,flow-churn,span] [--sizes 256M,1G,4G]
#                              [--format pcap|pcapng] [--runs N] [--boots N] [--span-phones N]
#                              [--tshark-prefix SIZE|full|none] [--parallel]
#
# Mixes (make-bench-capture --mix; all with --boots phone boots of a generated voice-VLAN SPAN
# interleaved, default 36):
#   ordinary    RTP, bulk TCP, HTTP, long TLS sessions, DNS;
#   tls-heavy   80 % short HTTPS sessions with full handshakes to 48 web servers;
#   flow-churn  the ordinary mix plus ~700,000 half-open connections per GiB over minutes;
#   span        a voice-VLAN SPAN of --span-phones phones booting in mixed states
#               (make-span-capture; its size is set by the phone count, --sizes is ignored).
#
# For each mix and size it
#   1. generates $BENCH_DIR/bench-MIX-SIZE.FORMAT if it is missing, and every phone boot alone
#      in $BENCH_DIR/boots-MIX-SIZE/ (BENCH_DIR defaults to /tmp/itlscope-bench, outside the
#      repository; deterministic seed 1);
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
#   4. checks every phone boot is diagnosed in the big file exactly as alone
#      (benches/boots_alone.py on `analyze --format jsonl`, not timed): column "boots ok";
#   5. prints a table: bytes, packets, seconds, GB/s, Mpps, peak RSS, the ratios
#      itlscope/cat and itlscope/tshark (throughput ratios; > 1 means itlscope is faster) and
#      the boots check. Exits 1 when a boot is diagnosed differently.
#
# Sizes default to 256M,1G; add 4G explicitly (it needs 4 GiB of disk under BENCH_DIR and
# takes a while). Generated files are kept for the next run unless BENCH_CLEAN=1.
# Needs: cargo, /usr/bin/time (GNU), python3 (boots check), capinfos/editcap/tshark
# (Wireshark) for the tshark column and packet counts.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
bench_dir="${BENCH_DIR:-/tmp/itlscope-bench}"
mixes="ordinary,tls-heavy,flow-churn"
sizes="256M,1G"
boots=36
span_phones=500
format="pcap"
runs=1
tshark_prefix="64M"
parallel=0

while [ $# -gt 0 ]; do
  case "$1" in
    --mix|--mixes) mixes="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --boots) boots="$2"; shift 2 ;;
    --span-phones) span_phones="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --tshark-prefix) tshark_prefix="$2"; shift 2 ;;
    --parallel) parallel=1; shift ;;
    -h|--help) sed -n '2,42p' "$0"; exit 0 ;;
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
  && cargo build --release --quiet --bin make-bench-capture --bin make-span-capture -p itlscope-gen)
target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
itlscope="$target_dir/release/itlscope"
generator="$target_dir/release/make-bench-capture"
span_generator="$target_dir/release/make-span-capture"
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
row() { rows+=("$(printf '%-11s %-5s %-10s %13s %11s %9s %8s %8s %9s %8s %9s %9s' "$@")"); }
row "mix" "size" "tool" "bytes" "packets" "seconds" "GB/s" "Mpps" "RSS(MiB)" "vs cat" "vs tshark" "boots ok"
failed_boots=0

gbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", b / s / 1e9; else print "-" }'; }
mpps() { awk -v p="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", p / s / 1e6; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

IFS=',' read -r -a size_list <<<"$sizes"
IFS=',' read -r -a mix_list <<<"$mixes"
for mix in "${mix_list[@]}"; do
for size in "${size_list[@]}"; do
  if [ "$mix" = span ]; then
    # The SPAN's size is set by its phone count: measured once, whatever --sizes says.
    [ "$size" != "${size_list[0]}" ] && continue
    size="${span_phones}ph"
    file="$bench_dir/bench-span-$size.pcap"
    alone="$bench_dir/boots-span-$size"
    if [ ! -s "$file" ]; then
      echo "generating $file..." >&2
      rm -rf "$alone"
      "$span_generator" --phones "$span_phones" --seed 1 --alone-dir "$alone" -o "$file.tmp" >&2
      mv "$file.tmp" "$file"
    fi
  else
    file="$bench_dir/bench-$mix-$size.$format"
    alone="$bench_dir/boots-$mix-$size"
    if [ ! -s "$file" ]; then
      echo "generating $file..." >&2
      rm -rf "$alone"
      "$generator" --mix "$mix" --size "$size" --format "$format" --seed 1 --boots "$boots" \
        --boots-dir "$alone" -o "$file.tmp" >&2
      mv "$file.tmp" "$file"
    fi
  fi
  bytes=$(stat -c %s "$file")
  npackets=$(packets "$file")
  echo "== $mix $size: $bytes bytes, $npackets packets (warm page cache)" >&2
  cat "$file" >/dev/null # warm-up

  measure cat /dev/null cat "$file"
  cat_secs=$M_SECS; cat_rss=$M_RSS_KB
  cat_gbps=$(gbps "$bytes" "$cat_secs")
  row "$mix" "$size" "cat" "$bytes" "$npackets" "$cat_secs" "$cat_gbps" "$(mpps "$npackets" "$cat_secs")" "$(mib "$cat_rss")" "1.00" "-"

  measure itlscope "$bench_dir/analyze-$size.json" "$itlscope" analyze "$file" --json
  it_secs=$M_SECS; it_rss=$M_RSS_KB; it_exit=$M_EXIT
  it_gbps=$(gbps "$bytes" "$it_secs")
  [ "$it_exit" -ne 0 ] && it_gbps="-"

  ts_gbps="-"
  if [ "$have_wireshark" = 1 ] && [ "$tshark_prefix" != "none" ]; then
    ts_file="$file"
    if [ "$tshark_prefix" != "full" ] && [ "$(to_bytes "$tshark_prefix")" -lt "$bytes" ]; then
      ts_file="${file%.*}-prefix-$tshark_prefix.${file##*.}"
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
    row "$mix" "$size" "$ts_label" "$ts_bytes" "$ts_packets" "$M_SECS" "$ts_gbps" \
      "$(mpps "$ts_packets" "$M_SECS")" "$(mib "$M_RSS_KB")" "$(ratio "$ts_gbps" "$cat_gbps")" "1.00"
  fi
  it_label="itlscope"
  [ "$it_exit" -ne 0 ] && it_label="itlscope!"
  # Every boot diagnosed as alone? (not timed)
  boots_ok="-"
  if [ -d "$alone" ] && command -v python3 >/dev/null 2>&1; then
    "$itlscope" analyze "$file" --format jsonl >"$bench_dir/rows-$mix-$size.jsonl" || true
    set +e
    python3 "$repo/benches/boots_alone.py" "$itlscope" "$bench_dir/rows-$mix-$size.jsonl" "$alone" \
      >"$bench_dir/boots-$mix-$size.txt"
    boots_exit=$?
    set -e
    boots_ok=$(sed -n 's/^boots diagnosed as alone: //p' "$bench_dir/boots-$mix-$size.txt")
    if [ "$boots_exit" -ne 0 ]; then
      failed_boots=1
      boots_ok="${boots_ok:-?}!"
      grep DIFFERS "$bench_dir/boots-$mix-$size.txt" | head -5 >&2 || true
    fi
  fi
  row "$mix" "$size" "$it_label" "$bytes" "$npackets" "$it_secs" "$it_gbps" \
    "$( [ "$it_exit" -eq 0 ] && mpps "$npackets" "$it_secs" || echo -)" "$(mib "$it_rss")" \
    "$(ratio "$it_gbps" "$cat_gbps")" "$(ratio "$it_gbps" "$ts_gbps")" "$boots_ok"
  if [ "$parallel" = 1 ]; then
    measure itlscope-x2 /dev/null "$itlscope" analyze "$file" "$file" --json
    row "$mix" "$size" "itlscope×2" "$((2 * bytes))" "$((2 * npackets))" "$M_SECS" \
      "$(gbps "$((2 * bytes))" "$M_SECS")" "$(mpps "$((2 * npackets))" "$M_SECS")" \
      "$(mib "$M_RSS_KB")" "$(ratio "$(gbps "$((2 * bytes))" "$M_SECS")" "$cat_gbps")" "-" "-"
  fi
  if [ "${BENCH_CLEAN:-0}" = 1 ]; then
    rm -rf "$file" "$file.packets" "${file%.*}"-prefix-* "$alone"
  fi
done
done

echo
echo "itlscope throughput benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, warm page cache, format $format, best of $runs)"
printf '%s\n' "${rows[@]}"
echo "tshark* = measured on a prefix of the file (--tshark-prefix $tshark_prefix); GB/s per byte of that prefix."
echo "itlscope! = analyze exited non-zero (see stderr above): time not comparable."
echo "vs cat / vs tshark = throughput ratio (higher is better for itlscope)."
echo "boots ok = phone boots diagnosed in the big file exactly as alone (! = some differ; see $bench_dir/boots-MIX-SIZE.txt)."
exit "$failed_boots"

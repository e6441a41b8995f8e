#!/usr/bin/env bash
# Interleaved A/B timing of two itlscope binaries against cat on one capture.
#
# usage: benches/interleaved.sh FILE OLD-BINARY NEW-BINARY [RUNS]
#
# Runs `cat FILE`, `OLD analyze FILE --json` and `NEW analyze FILE --json` round robin RUNS
# times (default 5) and prints the best wall time of each and its ratio to cat's. Round robin
# in the same minute cancels most of a shared machine's load drift, which moves the separate
# runs of benches/throughput.sh by as much as the change being measured. Warm the page cache
# first (benches/throughput.sh does; or `cat FILE >/dev/null`).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,10p' "$0"; exit 2; }
file=$1 old=$2 new=$3 runs=${4:-5}
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
c=() o=() n=()
for _ in $(seq "$runs"); do
  c+=("$(ms cat "$file")")
  o+=("$(ms "$old" analyze "$file" --json)")
  n+=("$(ms "$new" analyze "$file" --json)")
done
best() { printf '%s\n' "$@" | sort -n | head -1; }
bc=$(best "${c[@]}") bo=$(best "${o[@]}") bn=$(best "${n[@]}")
ratio() { awk -v a="$bc" -v b="$1" 'BEGIN { printf "%.2f", a / b }'; }
echo "$(basename "$file"): cat ${bc} ms; old ${bo} ms ($(ratio "$bo") x cat); new ${bn} ms ($(ratio "$bn") x cat)"

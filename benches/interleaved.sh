#!/usr/bin/env bash
# Interleaved A/B timing of two itlscope binaries against cat on one capture.
#
# usage: benches/interleaved.sh FILE OLD-BINARY NEW-BINARY [RUNS]
#
# Runs `cat FILE`, `OLD analyze FILE --json` and `NEW analyze FILE --json` round robin RUNS
# times (default 5) and prints the best and the median wall time of each and their ratios to
# cat's (the median of the per-round ratios too: each round's three runs share a minute of
# the machine's load). Round robin in the same minute cancels most of a shared machine's
# load drift, which moves the separate runs of benches/throughput.sh by as much as the
# change being measured. Warm the page cache first (benches/throughput.sh does; or
# `cat FILE >/dev/null`).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0"; exit 2; }
file=$1 old=$2 new=$3 runs=${4:-5}
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
c=() o=() n=()
for _ in $(seq "$runs"); do
  c+=("$(ms cat "$file")")
  o+=("$(ms "$old" analyze "$file" --json)")
  n+=("$(ms "$new" analyze "$file" --json)")
done
best() { printf '%s\n' "$@" | sort -n | head -1; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bc=$(best "${c[@]}") bo=$(best "${o[@]}") bn=$(best "${n[@]}")
mc=$(median "${c[@]}") mo=$(median "${o[@]}") mn=$(median "${n[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# Per round: cat / old and cat / new, and old / new (> 1: new is faster).
pr_o=() pr_n=() pr_on=()
for i in "${!c[@]}"; do
  pr_o+=("$(ratio "${c[$i]}" "${o[$i]}")")
  pr_n+=("$(ratio "${c[$i]}" "${n[$i]}")")
  pr_on+=("$(ratio "${o[$i]}" "${n[$i]}")")
done
echo "$(basename "$file"): best: cat ${bc} ms; old ${bo} ms ($(ratio "$bc" "$bo") x cat); new ${bn} ms ($(ratio "$bc" "$bn") x cat)"
echo "$(basename "$file"): median: cat ${mc} ms; old ${mo} ms ($(ratio "$mc" "$mo") x cat); new ${mn} ms ($(ratio "$mc" "$mn") x cat)"
echo "$(basename "$file"): median of per-round ratios: old $(median "${pr_o[@]}") x cat, new $(median "${pr_n[@]}") x cat, old/new $(median "${pr_on[@]}")"

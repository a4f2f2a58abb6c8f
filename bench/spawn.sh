#!/usr/bin/env bash
# The floor under the pipelines benchmark (issue 5): how long starting a small `sh -c` step takes
# on this machine, with posix_spawn() (as GNU make 4.3 starts its recipes) and with vfork() and
# exec (as mlctl's runner starts its steps), one loop at a time and two loops at once (what -j2
# asks of the machine). posix_spawn maps and unmaps a stack for every child; where the host
# shadows the guest's page tables, that and its TLB shootdown cost more when two start at once.
#
# usage: bench/spawn.sh [--quick] [--runs N]
#   --quick   500 starts per loop instead of 2,000
#   --runs N  runs of each measurement, the median printed (default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
runs=3
bench_options "$@"
starts=2000
[[ "$quick" == yes ]] && starts=500
command -v cc >/dev/null || { echo "bench/spawn.sh: cc is missing (apt-get install gcc)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mlctl-bench-spawn-XXXXXX")
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/spawn" "$root/bench/spawn.c"

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# ms per start: one loop, or the mean of two loops started together.
measure() {
  local mode=$1 loops=$2 values=() r
  for (( r = 0; r < runs; r++ )); do
    if (( loops == 1 )); then
      values+=("$("$work/spawn" "$mode" "$starts")")
    else
      "$work/spawn" "$mode" "$starts" > "$work/a" & "$work/spawn" "$mode" "$starts" > "$work/b"; wait
      values+=("$(awk '{s += $1} END {printf "%.3f", s / NR}' "$work/a" "$work/b")")
    fi
  done
  median "${values[@]}"
}

echo "start-up floor of a small sh step, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);"
echo "$starts starts per loop, median of $runs runs, ms per start"
echo
echo "| loops at once | posix_spawn (make) | vfork + exec (mlctl) | posix_spawn / vfork |"
echo "|---:|---:|---:|---:|"
for loops in 1 2; do
  p=$(measure posix_spawn "$loops")
  v=$(measure vfork "$loops")
  echo "| $loops | $p | $v | $(awk -v p="$p" -v v="$v" 'BEGIN {printf "%.2fx", p / v}') |"
done

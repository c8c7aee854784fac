#!/usr/bin/env bash
# Two builds of freight side by side on the `freight bench api` store (run that first): both
# servers up at once, the same new periods asked of each in turn (which goes first swaps every
# round), so the machine's drift lands on both. Prints each build's p50/p95 latency of a report
# not asked before, its server CPU per report (from /proc, every thread counted), and in how
# many pairs the second build answered first.
#   scripts/ab-new-reports.sh OLD_BINARY NEW_BINARY [ROUNDS]
set -Eeuo pipefail
trap 'echo "ab-new-reports.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR
old=$1 new=$2 rounds=${3:-24}
config=target/bench-api/freight.toml
[ -f "$config" ] || { echo "no $config: run \`freight bench api\` first" >&2; exit 1; }
work=$(mktemp -d)
ports=(47781 47782)
pids=()
for i in 0 1; do
  sed "s/^listen = .*/listen = \"127.0.0.1:${ports[$i]}\"/" "$config" > "$work/$i.toml"
done
"$old" serve --config "$work/0.toml" > /dev/null 2>&1 & pids+=($!)
"$new" serve --config "$work/1.toml" > /dev/null 2>&1 & pids+=($!)
trap 'kill "${pids[@]}" 2> /dev/null; rm -rf "$work"' EXIT
for port in "${ports[@]}"; do
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 1; done
done
as_of="as_of=2026-11-20T00:00:00Z"
for port in "${ports[@]}"; do curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/report?$as_of"; done
sleep 3
# serve starts itself again once (stop 24): the process listening is the last one of that config.
cpu() { awk '{print $14 + $15}' "/proc/$(pgrep -f "serve --config $work/$1.toml" | tail -1)/stat"; }
cpu_old=$(cpu 0) cpu_new=$(cpu 1)
ask() { curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:${ports[$1]}/api/v1/report?$as_of&since=$2&cut=person"; }
for round in $(seq 1 "$rounds"); do
  day=$(date -d "2026-08-01 + $round days" +%F)
  if (( round % 2 )); then b=$(ask 1 "$day"); sleep 0.7; a=$(ask 0 "$day"); else a=$(ask 0 "$day"); sleep 0.7; b=$(ask 1 "$day"); fi
  sleep 0.7
  echo "$a $b" >> "$work/pairs"
done
python3 - "$work/pairs" "$cpu_old" "$(cpu 0)" "$cpu_new" "$(cpu 1)" "$rounds" <<'PY'
import statistics, sys
pairs = [tuple(map(float, line.split())) for line in open(sys.argv[1])]
old_cpu = (float(sys.argv[3]) - float(sys.argv[2])) / 100 / float(sys.argv[6])
new_cpu = (float(sys.argv[5]) - float(sys.argv[4])) / 100 / float(sys.argv[6])
def line(name, values, cpu):
    ranked = sorted(values)
    p95 = ranked[max(0, -(-95 * len(ranked) // 100) - 1)]
    print(f"{name}: p50 {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, CPU {cpu:.3f} s per report")
line("old", [a for a, _ in pairs], old_cpu)
line("new", [b for _, b in pairs], new_cpu)
faster = sum(1 for a, b in pairs if b < a)
print(f"new answered first in {faster} of {len(pairs)} pairs; median new/old {statistics.median(b / a for a, b in pairs):.3f}")
PY

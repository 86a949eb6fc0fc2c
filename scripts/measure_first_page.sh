#!/usr/bin/env bash
# Time from a fresh clone to the first page of command 1 (scripts/run.sh), as the README reports it.
#   bash scripts/measure_first_page.sh cold   # empty pip cache (PIP_CACHE_DIR in a new temporary folder)
#   bash scripts/measure_first_page.sh warm   # the same pip cache, filled by a previous run (run cold first)
# Prints the seconds until GET / answers 200 and the machine's load average at that moment; stops the server.
set -euo pipefail
mode=${1:-warm}
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${FIRST_PAGE_PIP_CACHE:-/tmp/faqbot-first-page-pip-cache}
[ "$mode" = cold ] && rm -rf "$cache"
mkdir -p "$cache"
clone=$(mktemp -d /tmp/faqbot-clone.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git clone -q "$repo" "$clone"
start=$(date +%s.%N)
PIP_CACHE_DIR=$cache PORT=$port setsid bash "$clone/scripts/run.sh" > "$clone/run.log" 2>&1 &
runner=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
  kill -0 "$runner" 2>/dev/null || { cat "$clone/run.log"; exit 1; }
  sleep 0.2
done
end=$(date +%s.%N)
# CPU seconds the command used so far (its processes and their finished children): a figure the machine's other
# load does not inflate, unlike the wall-clock time.
cpu=$(python3 - "$runner" <<'PY'
import os, sys
sid, hz, total = int(sys.argv[1]), os.sysconf("SC_CLK_TCK"), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if int(fields[3]) == sid:  # field 6 (session id) counted from after the command name
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
print(f"{total / hz:.0f}")
PY
)
printf '%s : première page en %.0f s, %s s de processeur (charge : %s)\n' "$mode" "$(echo "$end - $start" | bc)" "$cpu" "$(cut -d' ' -f1-3 /proc/loadavg)"
grep '==>' "$clone/run.log"
kill -TERM -- "-$runner" 2>/dev/null || true
wait "$runner" 2>/dev/null || true
rm -rf "$clone"

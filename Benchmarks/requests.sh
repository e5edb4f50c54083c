#!/usr/bin/env bash
# The disclosure workflow at scale: import, decide (bulk), close (bulk) and report N requests.
#
#   REQUESTS=25000 bash Benchmarks/requests.sh        (then REQUESTS=200000)
#
# The state holds the sample logs (so every request places legal holds on real vault objects).
# Requests are spread over 70 territories and nine process types (two declared by the
# provider); every third is refused, one in twenty withdrawn. Prints wall time and peak RSS of
# each step; copy the summary into Benchmarks/RESULTS.md with the date and the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-25000}
BIN=${BIN:-.build/release/custody}
WORK=Benchmarks/work/requests-$REQUESTS
[ -x "$BIN" ] || swift build -c release --product custody
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
rm -rf "$WORK" && mkdir -p "$WORK"
cat > "$WORK/custody.yaml" <<YAML
sources:
  - path: $PWD/SampleLogs/logs
policy: $PWD/Policies/cn-apps.yaml
state_directory: state
ledger_key: ledger.key
reporting:
  provider: Benchmark Provider
  service: Benchmark Service
  contact: bench@example.com
  process_types:
    pen_register: Pen register order
    wiretap: Wiretap order
YAML
C="--config $WORK/custody.yaml --as-of 2027-01-15"   # commands that judge as of a day
S="--config $WORK/custody.yaml"                      # commands that only record
$BIN ledger init $S >/dev/null
$BIN run $C --quiet >/dev/null || true
python3 - "$REQUESTS" "$WORK" <<'PY'
import json, sys
n, work = int(sys.argv[1]), sys.argv[2]
codes = "AR AU AT BE BR BG CA CL CN CO HR CY CZ DK EE FI FR DE GR HK HU IN ID IE IL IT JP KZ KR LV LT LU MY MT MX MA NL NZ NG NO PK PE PH PL PT RO RU SA RS SG SK SI ZA ES LK SE CH TW TH TR UA AE GB US UY VE VN EG KE".split()
types = ["criminal_evidence", "administrative", "court_order", "subpoena", "emergency", "preservation", "other", "pen_register", "wiretap"]
with open(f"{work}/requests.jsonl", "w") as r, open(f"{work}/decisions.jsonl", "w") as d, open(f"{work}/closings.jsonl", "w") as c:
    for i in range(n):
        day = 1 + i % 28
        month = 7 + (i // 28) % 6
        t = types[i % len(types)]
        rid = f"B{i:07d}"
        users = [f"u{(i * 7 + k) % 300:05d}" for k in range(1 + i % 3)]
        r.write(json.dumps({"id": rid, "received_at": f"2026-{month:02d}-{day:02d}T09:00:00+08:00", "authority": f"Authority {i % 500}",
                            "jurisdiction": codes[i % len(codes)], "legal_basis": f"Basis {i % 40}", "process_type": t,
                            "acknowledged_at": f"2026-{month:02d}-{day:02d}T15:00:00+08:00",
                            "scope": {"users": users, "start": "2026-10-01", "end": "2026-10-31"}}) + "\n")
        if i % 20 == 0:
            c.write(json.dumps({"request": rid, "withdrawn": True, "at": f"2026-{month:02d}-{day:02d}T18:00:00+08:00"}) + "\n")
            continue
        if t == "preservation":
            c.write(json.dumps({"request": rid, "at": f"2026-{month:02d}-{day:02d}T18:00:00+08:00"}) + "\n")
            continue
        d.write(json.dumps({"request": rid, "produce": i % 3 != 0, "reason": "benchmark", "at": f"2026-{month:02d}-{day:02d}T17:00:00+08:00"}) + "\n")
        c.write(json.dumps({"request": rid, "at": f"2026-{month:02d}-{day:02d}T18:00:00+08:00"}) + "\n")
PY
step() {
  local name=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/$name.time" "$@" > "$WORK/$name.out"
  read -r seconds kib user sys < "$WORK/$name.time"
  printf "%-10s %8.2f s wall  %7.2f s CPU  peak RSS %6d MiB\n" "$name" "$seconds" "$(awk "BEGIN { print $user + $sys }")" $((kib / 1024))
}
echo "$REQUESTS requests ($(wc -l < "$WORK/decisions.jsonl") decisions, $(wc -l < "$WORK/closings.jsonl") closings)"
step import $BIN request import $S "$WORK/requests.jsonl"
step decide $BIN request decide $S --file "$WORK/decisions.jsonl"
step close $BIN request close $S --file "$WORK/closings.jsonl"
step report $BIN report transparency $C --period 2026H2 --out "$WORK/reports"
step dsa $BIN report dsa $C --period 2026H2 --out "$WORK/reports"
ls -la "$WORK/reports" | awk 'NR>1 {print "  " $5 "  " $9}'

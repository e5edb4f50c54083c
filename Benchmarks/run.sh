#!/usr/bin/env bash
# make bench: custody check against pigz -dc on the same files, in one session.
#
#   LINES=2000000 FILES=4 USERS=50000 SEED=7 RUNS=5 bash Benchmarks/run.sh
#
# Inputs are generated deterministically under Benchmarks/work/ (ignored by git) and reused
# while the parameters are unchanged. Prints medians, ratios and peak RSS; copy the summary
# into Benchmarks/RESULTS.md with the date and the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-2000000}
FILES=${FILES:-4}
USERS=${USERS:-50000}
SEED=${SEED:-7}
RUNS=${RUNS:-5}
WORK=Benchmarks/work/l${LINES}-f${FILES}-u${USERS}-s${SEED}
AS_OF=2026-11-19

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; }; }
need pigz pigz
need hyperfine hyperfine
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

# One product per call: with two --product flags SwiftPM builds only the last one, and the
# benchmark then measured a stale custody.
# Linked as `make release` links it (statically); both products alike, or each build redoes
# the other's.
swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld --product custody
swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld --product custody-loggen
BIN=.build/release/custody

if [ ! -f "$WORK/.complete" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"
  .build/release/custody-loggen bench --out "$WORK" --files "$FILES" --lines "$LINES" --users "$USERS" --seed "$SEED"
  touch "$WORK/.complete"
fi
FIRST=$(ls "$WORK"/*.gz | head -n 1)
ALL=$(ls "$WORK"/*.gz | tr '\n' ' ')

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "inputs:  $FILES × $(basename "$FIRST") ($(du -m "$FIRST" | cut -f1) MB gzip, $(pigz -dc "$FIRST" | wc -c | awk '{printf "%d", $1/1e6}') MB raw, $LINES lines, $USERS users)"

JSON=$(mktemp)
hyperfine -N -i -w 1 -r "$RUNS" --export-json "$JSON" \
  -n pigz-1 "pigz -dc $FIRST" \
  -n check-1 "$BIN check $FIRST --as-of $AS_OF --format json" \
  -n pigz-all "bash -c 'for f in $ALL; do pigz -dc \$f; done'" \
  -n check-all "$BIN check $ALL --as-of $AS_OF --format json" \
  -n check-all-1core "$BIN check $ALL --as-of $AS_OF --format json --jobs 1" >/dev/null

# The parallel and the one-core runs must print the same report.
diff <($BIN check $ALL --as-of $AS_OF --format json) <($BIN check $ALL --as-of $AS_OF --format json --jobs 1) >/dev/null \
  && echo "check-all output identical with --jobs 1: yes" || { echo "check-all output differs with --jobs 1"; exit 1; }

# custody run: the same files into fresh state, then again with nothing new.
RUNDIR=$(mktemp -d)
printf 'sources:\n  - path: %s\npolicy: %s\nstate_directory: %s/state\n' "$PWD/$WORK" "$PWD/Policies/cn-apps.yaml" "$RUNDIR" > "$RUNDIR/custody.yaml"
RUNJSON=$(mktemp)
hyperfine -N -i -r "$RUNS" --export-json "$RUNJSON" --prepare "rm -rf $RUNDIR/state" \
  -n run-fresh "$BIN run --config $RUNDIR/custody.yaml --as-of $AS_OF --quiet" >/dev/null
$BIN run --config "$RUNDIR/custody.yaml" --as-of $AS_OF --quiet >/dev/null || true
hyperfine -N -i -w 1 -r "$RUNS" --export-json "$RUNJSON.2" -n run-nothing-new "$BIN run --config $RUNDIR/custody.yaml --as-of $AS_OF --quiet" >/dev/null

# 1,000 small unchanged files: the cost of a run with nothing new.
MANY=Benchmarks/work/many-1000
if [ ! -f "$MANY/.complete" ]; then
  rm -rf "$MANY"; mkdir -p "$MANY"
  python3 - "$MANY" <<'GEN'
import gzip, sys
for i in range(1000):
    lines = "".join('{"ts":"2026-10-%02dT%02d:00:00+08:00","user":"u%05d","event":"view"}\n' % (1 + i % 28, h, i) for h in range(24))
    with gzip.open(f"{sys.argv[1]}/app-{i:04d}.log.gz", "wt") as f: f.write(lines)
GEN
  touch "$MANY/.complete"
fi
MANYDIR=$(mktemp -d)
printf 'sources:\n  - path: %s\npolicy: %s\nstate_directory: %s/state\n' "$PWD/$MANY" "$PWD/Policies/cn-apps.yaml" "$MANYDIR" > "$MANYDIR/custody.yaml"
$BIN run --config "$MANYDIR/custody.yaml" --as-of $AS_OF --quiet >/dev/null || true
hyperfine -N -i -w 1 -r "$RUNS" --export-json "$RUNJSON.3" -n run-1000-unchanged "$BIN run --config $MANYDIR/custody.yaml --as-of $AS_OF --quiet" >/dev/null
rm -rf "$RUNDIR" "$MANYDIR"

# The other two log formats, one file each (the targets are set for JSON lines; these show
# the combined and logfmt parsers keep up too).
OTHER=()
for FMT in combined logfmt; do
  DIR=Benchmarks/work/l${LINES}-f1-u${USERS}-s${SEED}-$FMT
  if [ ! -f "$DIR/.complete" ]; then
    rm -rf "$DIR"; mkdir -p "$DIR"
    .build/release/custody-loggen bench --out "$DIR" --files 1 --lines "$LINES" --users "$USERS" --seed "$SEED" --format "$FMT" >/dev/null
    touch "$DIR/.complete"
  fi
  F=$(ls "$DIR"/*.gz | head -n 1)
  OTHER+=(-n "pigz-$FMT" "pigz -dc $F" -n "check-$FMT" "$BIN check $F --as-of $AS_OF --format json")
done
hyperfine -N -i -w 1 -r "$RUNS" --export-json "$RUNJSON.4" "${OTHER[@]}" >/dev/null

# The parser alone, from memory (no inflate, no I/O): a steadier number than wall times.
PARSE=$(.build/release/custody-loggen parse-timing "$FIRST" --policy Policies/cn-apps.yaml)

RSS1=$( { /usr/bin/time -f %M $BIN check $FIRST --as-of $AS_OF --format json >/dev/null || true; } 2>&1 | tail -n 1)
RSSALL=$( { /usr/bin/time -f %M $BIN check $ALL --as-of $AS_OF --format json >/dev/null || true; } 2>&1 | tail -n 1)

# The memory budget (64 MiB + 200 B a user) again with ten times the users: the same files'
# worth of lines, most users in every file. Generated once (~20 s), like the inputs above.
BIGUSERS=${BIGUSERS:-$((USERS * 10))}
BIG=Benchmarks/work/l${LINES}-f${FILES}-u${BIGUSERS}-s${SEED}
if [ ! -f "$BIG/.complete" ]; then
  rm -rf "$BIG"; mkdir -p "$BIG"
  .build/release/custody-loggen bench --out "$BIG" --files "$FILES" --lines "$LINES" --users "$BIGUSERS" --seed "$SEED" >/dev/null
  touch "$BIG/.complete"
fi
RSSBIG=$( { /usr/bin/time -f %M $BIN check "$BIG"/*.gz --as-of $AS_OF --format json >/dev/null || true; } 2>&1 | tail -n 1)

python3 - "$JSON" "$RSS1" "$RSSALL" "$USERS" "$RSSBIG" "$BIGUSERS" "$RUNJSON" "$RUNJSON.2" "$RUNJSON.3" "$RUNJSON.4" <<'PY'
import json, statistics, sys
data = {}
for f in [sys.argv[1]] + sys.argv[7:]:
    data.update({r["command"]: statistics.median(r["times"]) for r in json.load(open(f))["results"]})
rss1, rssall, users = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
budget = 64 * 1024 + users * 200 / 1024
print(f"median wall time (s): " + ", ".join(f"{k} {v:.3f}" for k, v in data.items()))
print(f"one file:  check / pigz -dc          = {data['check-1'] / data['pigz-1']:.2f}  (target ≤ 1.35)")
print(f"all files: check / pigz -dc in turn  = {data['check-all'] / data['pigz-all']:.2f}  (target ≤ 0.65)")
print(f"all files: one core / all cores      = {data['check-all-1core'] / data['check-all']:.2f}")
print(f"run, fresh state / check all files = {data['run-fresh'] / data['check-all']:.2f}  (target ≤ 1.6)")
print(f"run with nothing new: {data['run-nothing-new']:.3f} s; over 1,000 unchanged files: {data['run-1000-unchanged']:.3f} s  (target ≤ 0.2 s)")
print(f"other formats, one file: combined check / pigz -dc = {data['check-combined'] / data['pigz-combined']:.2f}, "
      f"logfmt {data['check-logfmt'] / data['pigz-logfmt']:.2f}")
print(f"peak RSS: one file {rss1/1024:.1f} MiB, all files {rssall/1024:.1f} MiB (budget {budget/1024:.1f} MiB = 64 MiB + 200 B × {users} users)")
rssbig, bigusers = int(sys.argv[5]), int(sys.argv[6])
bigbudget = 64 * 1024 + bigusers * 200 / 1024
print(f"peak RSS with {bigusers} users, all files: {rssbig/1024:.1f} MiB (budget {bigbudget/1024:.1f} MiB)")
PY
echo "parser alone: $PARSE"
rm -f "$JSON" "$RUNJSON" "$RUNJSON.2" "$RUNJSON.3" "$RUNJSON.4"

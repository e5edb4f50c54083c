#!/usr/bin/env bash
# make bench: custody against pigz -dc and igzip -dc on the same files, in one session.
#
#   LINES=2000000 FILES=4 USERS=50000 SEED=7 RUNS=5 bash Benchmarks/run.sh
#
# Two data sets: the regular one (`custody-loggen bench`: sequence-derived addresses and
# sessions, 50,000 users) and a high-entropy one (`custody-loggen bench-entropy`: random 64-bit
# session ids and addresses, ~190,000 users a file, heavy-headed activity), each as four JSON
# files plus one combined and one logfmt file; one varied JSON file (`bench-entropy --varied`:
# four shapes of line, as apps behind one gateway write them); and one where 40 % of users publish
# before verifying (`--violating-percent 40`). Then many files (1,000 / 10,000 / 100,000 small
# gzip files) and many users (500,000 and 1,000,000).
#
# Commands of one comparison are timed interleaved (Benchmarks/interleave.py: every round runs
# each once), medians reported; the load average is printed at the start and the end. Inputs
# are generated deterministically under Benchmarks/work/ (ignored by git) and reused while the
# parameters are unchanged. SKIP_SCALE=1 leaves out the many-files and many-users parts.
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-2000000}
FILES=${FILES:-4}
USERS=${USERS:-50000}
SEED=${SEED:-7}
RUNS=${RUNS:-5}
ENTROPY_USERS=${ENTROPY_USERS:-200000}
MANY=${MANY:-10000}
MANY_BIG=${MANY_BIG:-100000}
MILLION=${MILLION:-1000000}
WORK=Benchmarks/work/l${LINES}-f${FILES}-u${USERS}-s${SEED}
AS_OF=2026-11-19
POLICY=Policies/cn-apps.yaml
TIME=Benchmarks/interleave.py

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; }; }
need pigz pigz
need igzip isal
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

# One product per call: with two --product flags SwiftPM builds only the last one, and the
# benchmark then measured a stale custody.
# Linked as `make release` links it (statically, relocations packed); both products alike, or
# each build redoes the other's.
# An incremental build has left an executable compiled against an older layout of a library's
# public struct (parse-timing then crashed mid-bench): the executables' own sources are touched
# so that both are always recompiled against the libraries as they are (seconds).
touch Sources/custody/*.swift Sources/custody-loggen/*.swift
swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs --product custody
swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs --product custody-loggen
BIN=.build/release/custody
GEN=.build/release/custody-loggen
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# generate DIR COMMAND...: runs the generator once per parameter set.
generate() {
  local dir=$1; shift
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    "$@" --out "$dir" >/dev/null
    touch "$dir/.complete"
  fi
}
config() { # config DIR SOURCE: a custody.yaml with its state under DIR
  printf 'sources:\n  - path: %s\npolicy: %s\nstate_directory: %s/state\n' "$PWD/$2" "$PWD/$POLICY" "$1" > "$1/custody.yaml"
}
# rss_of: peak RSS in KiB of a command (GNU time writes it to stderr; the command's own is dropped).
rss_of() { local f; f=$(mktemp); /usr/bin/time -o "$f" -f %M "$@" >/dev/null 2>&1 || true; tail -n 1 "$f"; rm -f "$f"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "isal: $(dpkg-query -W -f='${Version}' libisal-dev 2>/dev/null || echo missing); zlib: $(pkg-config --modversion zlib)"

# --- the two data sets ----------------------------------------------------------------------
generate "$WORK" "$GEN" bench --files "$FILES" --lines "$LINES" --users "$USERS" --seed "$SEED"
ENT=Benchmarks/work/entropy-l${LINES}-f${FILES}-u${ENTROPY_USERS}-s${SEED}
generate "$ENT" "$GEN" bench-entropy --files "$FILES" --lines "$LINES" --users "$ENTROPY_USERS" --seed "$SEED"
for FMT in combined logfmt; do
  generate "Benchmarks/work/l${LINES}-f1-u${USERS}-s${SEED}-$FMT" "$GEN" bench --files 1 --lines "$LINES" --users "$USERS" --seed "$SEED" --format "$FMT"
  generate "Benchmarks/work/entropy-l${LINES}-f1-u${ENTROPY_USERS}-s${SEED}-$FMT" "$GEN" bench-entropy --files 1 --lines "$LINES" --users "$ENTROPY_USERS" --seed "$SEED" --format "$FMT"
done

# A third JSON file, as several apps behind one gateway write them: keys in a new order on some
# lines, Python's blanks after colons and commas, nested objects, escapes, UUID users.
VARIED=Benchmarks/work/varied-l${LINES}-f1-u${ENTROPY_USERS}-s${SEED}
generate "$VARIED" "$GEN" bench-entropy --files 1 --lines "$LINES" --users "$ENTROPY_USERS" --seed "$SEED" --varied
# And one where 40 % of users publish before verifying (logs of an app that does not enforce the
# rule): one finding per such user, so the report's tail, not the lines, is most of the work.
VIOLATORS=Benchmarks/work/violators-l${LINES}-f1-u${ENTROPY_USERS}-s${SEED}-p40
generate "$VIOLATORS" "$GEN" bench-entropy --files 1 --lines "$LINES" --users "$ENTROPY_USERS" --seed "$SEED" --violating-percent 40

for SET in regular entropy; do
  if [ $SET = regular ]; then DIR=$WORK; OTHER=Benchmarks/work/l${LINES}-f1-u${USERS}-s${SEED}; else DIR=$ENT; OTHER=Benchmarks/work/entropy-l${LINES}-f1-u${ENTROPY_USERS}-s${SEED}; fi
  FIRST=$(ls "$DIR"/*.gz | head -n 1)
  ALL=$(ls "$DIR"/*.gz | tr '\n' ' ')
  COMBINED=$(ls "$OTHER-combined"/*.gz | head -n 1)
  LOGFMT=$(ls "$OTHER-logfmt"/*.gz | head -n 1)
  echo "$SET inputs: $FILES × $(basename "$FIRST") ($(du -m "$FIRST" | cut -f1) MB gzip, $(igzip -dc "$FIRST" | wc -c | awk '{printf "%d", $1/1e6}') MB raw, $LINES lines)"
  C="--as-of $AS_OF --format json"
  python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/$SET-1.json" \
    "pigz-1=pigz -dc $FIRST" "igzip-1=igzip -dc $FIRST" "check-1=$BIN check $FIRST $C" \
    "check-1-zlib=CUSTODY_INFLATE=zlib $BIN check $FIRST $C"
  python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/$SET-all.json" \
    "pigz-all=for f in $ALL; do pigz -dc \$f; done" "igzip-all=for f in $ALL; do igzip -dc \$f; done" \
    "check-all=$BIN check $ALL $C" "check-all-1core=$BIN check $ALL $C --jobs 1"
  python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/$SET-formats.json" \
    "pigz-combined=pigz -dc $COMBINED" "igzip-combined=igzip -dc $COMBINED" "check-combined=$BIN check $COMBINED $C" \
    "pigz-logfmt=pigz -dc $LOGFMT" "igzip-logfmt=igzip -dc $LOGFMT" "check-logfmt=$BIN check $LOGFMT $C"
  # The same report whatever the parallelism and whichever library inflates.
  $BIN check $ALL $C > "$OUT/$SET-report" || true
  cmp -s <($BIN check $ALL $C --jobs 1) "$OUT/$SET-report" && echo "$SET: --jobs 1 output identical: yes" || { echo "$SET: --jobs 1 output differs"; exit 1; }
  cmp -s <(CUSTODY_INFLATE=zlib $BIN check $ALL $C) "$OUT/$SET-report" && echo "$SET: zlib output identical to ISA-L: yes" || { echo "$SET: zlib output differs"; exit 1; }
  echo "$SET rss_1=$(rss_of $BIN check $FIRST $C) rss_all=$(rss_of $BIN check $ALL $C)" > "$OUT/$SET-rss"
done

VF=$(ls "$VARIED"/*.gz | head -n 1)
python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/varied.json" \
  "pigz-varied=pigz -dc $VF" "igzip-varied=igzip -dc $VF" "check-varied=$BIN check $VF --as-of $AS_OF --format json"
VV=$(ls "$VIOLATORS"/*.gz | head -n 1)
python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/violators.json" \
  "pigz-violators=pigz -dc $VV" "igzip-violators=igzip -dc $VV" "check-violators=$BIN check $VV --as-of $AS_OF --format json"

# custody run on the regular set: fresh state, then again with nothing new.
RUNDIR=$OUT/run; mkdir -p "$RUNDIR"; config "$RUNDIR" "$WORK"
python3 $TIME --runs "$RUNS" --export-json "$OUT/run.json" --prepare "run-fresh=rm -rf $RUNDIR/state" \
  "run-fresh=$BIN run --config $RUNDIR/custody.yaml --as-of $AS_OF --quiet" \
  "check-all-again=$BIN check $WORK/*.gz --as-of $AS_OF --format json"
$BIN run --config "$RUNDIR/custody.yaml" --as-of $AS_OF --quiet >/dev/null || true
python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/run2.json" "run-nothing-new=$BIN run --config $RUNDIR/custody.yaml --as-of $AS_OF --quiet"

# The parser alone, from memory (no inflate, no I/O): a steadier number than wall times.
PARSE=$($GEN parse-timing "$(ls "$WORK"/*.gz | head -n 1)" --policy $POLICY)

# Described formats against the built-in combined parser, per line, on the same combined file:
# a dissect pattern and a pasted nginx log_format (target ≤ 1.5 ×), and a regex (no target).
cat > "$OUT/formats.yaml" <<'YAML'
formats:
  pattern:
    pattern: '%{addr} - %{user} [%{time}] "%{request}" %{status} %{bytes} "%{referer}" "%{agent}"'
    time_format: '%d/%b/%Y:%H:%M:%S %z'
    fields: { timestamp: time, user: user }
  nginx:
    nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
  regex:
    regex: '^(?P<addr>\S+) - (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)"'
    time_format: clf
    fields: { timestamp: time, user: user }
YAML
CF=$(ls Benchmarks/work/l${LINES}-f1-u${USERS}-s${SEED}-combined/*.gz | head -n 1)
nsline() { $GEN parse-timing "$CF" --policy $POLICY --formats "$OUT/formats.yaml" --input-format "$1" | sed 's/.*: \([0-9.]*\) ns per line/\1/'; }
BASE=$(nsline combined)
for F in pattern nginx regex; do
  V=$(nsline $F)
  echo "described format $F: $V ns a line = $(python3 -c "print(f'{$V / $BASE:.2f}')") × combined ($BASE ns)" >> "$OUT/described"
done

if [ "${SKIP_SCALE:-0}" != 1 ]; then
  # --- many files: small gzip files (24 lines each), a run with nothing new; fresh run vs check.
  manyfiles() { # manyfiles N DIR
    python3 - "$1" "$2" <<'GEN'
import gzip, sys
n, out = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    sub = f"{out}/d{i // 1000:03d}"
    if i % 1000 == 0:
        import os; os.makedirs(sub, exist_ok=True)
    lines = "".join('{"ts":"2026-10-%02dT%02d:00:00+08:00","user":"u%06d","event":"view"}\n' % (1 + i % 28, h, i) for h in range(24))
    with open(f"{sub}/app-{i:06d}.log.gz", "wb") as f: f.write(gzip.compress(lines.encode(), 6))
GEN
  }
  for N in 1000 "$MANY" "$MANY_BIG"; do
    D=Benchmarks/work/many-$N
    if [ ! -f "$D/.complete" ]; then rm -rf "$D"; mkdir -p "$D"; manyfiles "$N" "$D"; touch "$D/.complete"; fi
    M=$OUT/many-$N; mkdir -p "$M"; config "$M" "$D"
    if [ "$N" = "$MANY" ]; then
      python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/many-fresh.json" --prepare "run-fresh-$N=rm -rf $M/state" \
        "run-fresh-$N=$BIN run --config $M/custody.yaml --as-of $AS_OF --quiet" \
        "check-$N=$BIN check $D --as-of $AS_OF --format json"
    fi
    $BIN run --config "$M/custody.yaml" --as-of $AS_OF --quiet >/dev/null || true
    python3 $TIME --runs 3 --warmup 1 --export-json "$OUT/many-$N.json" "run-unchanged-$N=$BIN run --config $M/custody.yaml --as-of $AS_OF --quiet"
    rm -rf "$M/state"
  done

  # --- many users: fresh run against check with 500,000 users; peak RSS with 1,000,000.
  HALF=$((MILLION / 2))
  for U in "$HALF" "$MILLION"; do
    generate "Benchmarks/work/l${LINES}-f${FILES}-u${U}-s${SEED}" "$GEN" bench --files "$FILES" --lines "$LINES" --users "$U" --seed "$SEED"
  done
  BIG=Benchmarks/work/l${LINES}-f${FILES}-u${HALF}-s${SEED}
  U5=$OUT/users-half; mkdir -p "$U5"; config "$U5" "$BIG"
  python3 $TIME --runs "$RUNS" --warmup 1 --export-json "$OUT/users.json" --prepare "run-fresh-users=rm -rf $U5/state" \
    "run-fresh-users=$BIN run --config $U5/custody.yaml --as-of $AS_OF --quiet" \
    "check-users=$BIN check $BIG/*.gz --as-of $AS_OF --format json"
  MIL=Benchmarks/work/l${LINES}-f${FILES}-u${MILLION}-s${SEED}
  UM=$OUT/users-million; mkdir -p "$UM"; config "$UM" "$MIL"
  RSS_CHECK_M=$(rss_of $BIN check $MIL/*.gz --as-of $AS_OF --format json)
  RSS_RUN_M=$(rss_of $BIN run --config "$UM/custody.yaml" --as-of $AS_OF --quiet)
  RSS_STATUS_M=$(rss_of $BIN status --config "$UM/custody.yaml" --as-of $AS_OF)
  # Not *.json: every *.json in $OUT is read as timings below.
  $BIN check $MIL/*.gz --as-of $AS_OF --format json > "$OUT/million-report.txt" || true
  USERS_M=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["real_name"]["users_seen"])' "$OUT/million-report.txt")
  echo "million rss_check=$RSS_CHECK_M rss_run=$RSS_RUN_M rss_status=$RSS_STATUS_M users=$USERS_M" > "$OUT/million-rss"
fi
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT" "$PARSE" <<'PY'
import glob, json, os, statistics, sys
out, parse = sys.argv[1], sys.argv[2]
d = {}
for f in glob.glob(f"{out}/*.json"):
    for r in json.load(open(f))["results"]:
        d[(os.path.basename(f).split("-")[0] if f.split("/")[-1].startswith(("regular", "entropy")) else "", r["command"])] = statistics.median(r["times"])
def m(set_, name): return d.get((set_, name))
def kv(path):
    return dict(x.split("=", 1) for x in open(path).read().split()[1:] if "=" in x) if os.path.exists(path) else {}
def ok(v, bound): return "✓" if v <= bound else "✗"
rows = [("pigz -dc, one file", "pigz-1"), ("igzip -dc, one file", "igzip-1"), ("custody check, one file", "check-1"),
        ("custody check, one file, zlib (CUSTODY_INFLATE=zlib)", "check-1-zlib"),
        ("pigz -dc, the 4 files in turn", "pigz-all"), ("igzip -dc, the 4 files in turn", "igzip-all"),
        ("custody check, the 4 files", "check-all"), ("custody check, the 4 files, --jobs 1", "check-all-1core"),
        ("pigz -dc, combined file", "pigz-combined"), ("igzip -dc, combined file", "igzip-combined"), ("custody check, combined file", "check-combined"),
        ("pigz -dc, logfmt file", "pigz-logfmt"), ("igzip -dc, logfmt file", "igzip-logfmt"), ("custody check, logfmt file", "check-logfmt")]
print("\n| command (median s) | regular | high-entropy |\n|---|---|---|")
for label, key in rows:
    print(f"| {label} | {m('regular', key):.3f} | {m('entropy', key):.3f} |")
print("\n| target | regular | high-entropy |\n|---|---|---|")
for label, num, den, bound in [("one file: check ≤ 1.5 × igzip -dc", "check-1", "igzip-1", 1.5),
                               ("four files: check ≤ 1.0 × igzip -dc in turn", "check-all", "igzip-all", 1.0),
                               ("combined file: check ≤ 1.5 × igzip -dc", "check-combined", "igzip-combined", 1.5),
                               ("logfmt file: check ≤ 1.5 × igzip -dc", "check-logfmt", "igzip-logfmt", 1.5),
                               ("one file: check / pigz -dc (was ≤ 1.35)", "check-1", "pigz-1", 1.35),
                               ("four files: check / pigz -dc in turn (was ≤ 0.65)", "check-all", "pigz-all", 0.65)]:
    a, b = m("regular", num) / m("regular", den), m("entropy", num) / m("entropy", den)
    print(f"| {label} | {a:.2f} {ok(a, bound)} | {b:.2f} {ok(b, bound)} |")
for s in ("regular", "entropy"):
    r = kv(f"{out}/{s}-rss")
    if r: print(f"{s}: peak RSS one file {int(r['rss_1'])/1024:.1f} MiB, four files {int(r['rss_all'])/1024:.1f} MiB")
if m("", "check-varied") is not None:
    v = m("", "check-varied") / m("", "igzip-varied")
    print(f"\nvaried JSON file (four shapes: keys reordered, blanks, nested, escapes, UUID users): check {m('', 'check-varied'):.3f} s = {v:.2f} × igzip -dc ({m('', 'igzip-varied'):.3f} s), {m('', 'check-varied') / m('', 'pigz-varied'):.2f} × pigz -dc (one-file bound 1.5: {ok(v, 1.5)})")
if m("", "check-violators") is not None:
    v = m("", "check-violators") / m("", "igzip-violators")
    print(f"violators file (40 % of users publish before verifying, one finding each): check {m('', 'check-violators'):.3f} s = {v:.2f} × igzip -dc ({m('', 'igzip-violators'):.3f} s), {m('', 'check-violators') / m('', 'pigz-violators'):.2f} × pigz -dc (for information)")
print(f"\nrun, fresh state, 4 regular files: {m('', 'run-fresh'):.3f} s = {m('', 'run-fresh') / m('', 'check-all-again'):.2f} × check ({m('', 'check-all-again'):.3f} s)  (target ≤ 1.6)")
print(f"run, nothing new (4 files): {m('', 'run-nothing-new'):.3f} s")
for n, bound in (("1000", 0.2), (os.environ.get("MANY", "10000"), 1.0), (os.environ.get("MANY_BIG", "100000"), 10.0)):
    v = m("", f"run-unchanged-{n}")
    if v is not None: print(f"run, nothing new, {int(n):,} files: {v:.3f} s  (target ≤ {bound} s) {ok(v, bound)}")
n = os.environ.get("MANY", "10000")
if m("", f"run-fresh-{n}") is not None:
    ratio = m("", f"run-fresh-{n}") / m("", f"check-{n}")
    print(f"run, fresh, {int(n):,} files: {m('', f'run-fresh-{n}'):.3f} s = {ratio:.2f} × check ({m('', f'check-{n}'):.3f} s)  (target ≤ 2) {ok(ratio, 2)}")
if m("", "run-fresh-users") is not None:
    ratio = m("", "run-fresh-users") / m("", "check-users")
    print(f"run, fresh, {int(os.environ.get('MILLION', '1000000')) // 2:,} users: {m('', 'run-fresh-users'):.3f} s = {ratio:.2f} × check ({m('', 'check-users'):.3f} s)  (target ≤ 1.6) {ok(ratio, 1.6)}")
r = kv(f"{out}/million-rss")
if r:
    c, ru, st = (int(r[k]) * 1024 / 1e6 for k in ("rss_check", "rss_run", "rss_status"))
    print(f"peak RSS, {r['users']} users: check {c:.0f} MB (≤ 400) {ok(c, 400)}, run {ru:.0f} MB (≤ 500) {ok(ru, 500)}, status {st:.0f} MB (≤ 500) {ok(st, 500)}")
print(f"parser alone: {parse}")
if os.path.exists(f"{out}/described"): print(open(f"{out}/described").read().rstrip())
PY

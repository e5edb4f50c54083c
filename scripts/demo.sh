#!/usr/bin/env bash
# make demo: the main jobs on SampleLogs/, everything written under out/.
#   1. custody check            (app teams, CI); a described format and the user database
#                                (SampleLogs/formats.yaml, SampleLogs/registry/)
#   2. custody run, twice       (operators: the second run reads nothing new)
#   3. the disclosure workflow  (legal teams: requests, decisions, a package, verify)
#   4. reports                  (transparency and compliance, every format)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/custody}
AS_OF=2026-11-19
POLICY=Policies/cn-apps.yaml
ok_or_findings() { local s=$?; [ $s -le 1 ] || { echo "demo: unexpected exit status $s" >&2; exit $s; }; }

rm -rf out && mkdir -p out
echo "== 1. custody check SampleLogs/logs --as-of $AS_OF (expected: NOT COMPLIANT, see SampleLogs/README.md)"
$BIN check SampleLogs/logs --policy $POLICY --as-of $AS_OF | tee out/check.txt; (exit ${PIPESTATUS[0]}); ok_or_findings
$BIN check SampleLogs/logs --policy $POLICY --as-of $AS_OF --format json > out/check.json; ok_or_findings

echo; echo "== 1b. an API gateway log in its own nginx log_format, with verifications from the user database"
$BIN check SampleLogs/gateway --policy $POLICY --as-of $AS_OF --formats SampleLogs/formats.yaml --input-format gateway \
  --registry SampleLogs/registry/verified-users.csv | tee out/check-gateway.txt | head -n 5; (exit ${PIPESTATUS[0]}); ok_or_findings

# custody.yaml: the app's logs (sniffed) and the gateway's (format described inline under formats:).
{ printf 'sources:\n  - path: ../SampleLogs/logs\n  - path: ../SampleLogs/gateway\n    format: gateway\n'
  printf 'policy: ../%s\nstate_directory: state\nmetrics_file: custody.prom\nledger_key: ledger.key\nwitness_directory: witness\n' "$POLICY"
  sed -n '/^formats:/,$p' SampleLogs/formats.yaml; } > out/custody.yaml
C="--config out/custody.yaml --as-of $AS_OF"   # commands that judge as of a day
S="--config out/custody.yaml"                   # commands that only record (no --as-of)
# The ledger's signing key lives outside the state (here out/ledger.key; in production /etc/custody).
# Who publishes the reports (docs/reports.md lists every reporting: key).
cat >> out/custody.yaml <<'YAML'
reporting:
  provider: Example Network Technology Co., Ltd.
  service: Example Social (sample logs)
  contact: transparency@example.com
  process_types:
    pen_register: Pen register order
YAML
$BIN ledger init $S > /dev/null || exit 2
echo; echo "== 2. custody run (first: ingests everything into out/state), then again (nothing new)"
$BIN run $C --quiet > out/run1.txt; ok_or_findings
$BIN run $C > out/run2.txt; ok_or_findings
echo "-- verifications from the user database (SampleLogs/registry/verified-users.csv):"
$BIN registry import SampleLogs/registry/verified-users.csv --config out/custody.yaml || exit 2
$BIN registry list --config out/custody.yaml | grep registry
$BIN status $C; ok_or_findings

echo; echo "== 3. requests for user data (SampleLogs/requests/2026H2.jsonl)"
$BIN request import $S SampleLogs/requests/2026H2.jsonl || exit 2
D() { $BIN request decide $S "$@" >/dev/null || exit 2; }
D REQ-2026-001 --user u00001 --produce --reason "valid evidence request; scope proportionate" --at 2026-11-24T10:00:00+08:00
D REQ-2026-001 --user u09001 --withhold --reason "not named in the case file" --at 2026-11-24T10:05:00+08:00
D REQ-2026-002 --all --produce --reason "court order" --at 2026-10-20T15:00:00+08:00
D REQ-2026-003 --all --withhold --reason "no legal basis for content of these accounts" --at 2026-10-09T11:00:00+08:00
D REQ-2026-004 --all --produce --reason "MLA channel, non-content only" --at 2026-11-12T09:30:00+08:00
D REQ-2026-007 --all --produce --reason "court order" --at 2026-11-25T16:00:00+08:00
for r in REQ-2026-001:2026-11-25 REQ-2026-002:2026-10-22 REQ-2026-004:2026-11-13 REQ-2026-007:2026-11-26; do
  $BIN request produce $S ${r%%:*} --out out/packages/${r%%:*} --at ${r##*:}T10:00:00+08:00 || exit 2
done
$BIN request close $S REQ-2026-002 --at 2026-10-23T10:00:00+08:00 >/dev/null || exit 2
$BIN request close $S REQ-2026-003 --at 2026-10-09T12:00:00+08:00 >/dev/null || exit 2
$BIN request close $S REQ-2026-006 --withdrawn --at 2026-11-15T12:00:00+08:00 >/dev/null || exit 2
# EU orders to provide information (DSA art. 10): decided and closed in bulk from JSON lines.
$BIN request import $S SampleLogs/requests/2026H2-eu-orders.jsonl || exit 2
printf '%s\n' '{"request":"EU-2026-001","produce":true,"reason":"valid order","at":"2026-10-06T09:00:00+02:00"}' \
  '{"request":"EU-2026-002","produce":true,"reason":"valid order","at":"2026-10-22T09:00:00+02:00"}' \
  '{"request":"EU-2026-003","produce":false,"reason":"speech lawful where the account is","at":"2026-11-04T09:00:00+01:00"}' > out/eu-decisions.jsonl
$BIN request decide $S --file out/eu-decisions.jsonl || exit 2
$BIN request produce $S EU-2026-001 EU-2026-002 --out out/packages --at 2026-10-23T10:00:00+02:00 || exit 2
printf '%s\n' '{"request":"EU-2026-001","at":"2026-10-24T10:00:00+02:00"}' '{"request":"EU-2026-002","at":"2026-10-24T10:00:00+02:00"}' \
  '{"request":"EU-2026-003","at":"2026-11-04T10:00:00+01:00"}' > out/eu-closings.jsonl
$BIN request close $S --file out/eu-closings.jsonl || exit 2
$BIN request list $C
$BIN hold list $S | head -n 5
echo; echo "== custody verify (vault, ledger, packages; day 2026-10-03 was never logged)"
$BIN verify $C; ok_or_findings
echo "ledger public key: $($BIN ledger key $S)"

echo; echo "== 4. reports (as of 2027-01-15, after the period ended: not interim)"
R="--config out/custody.yaml --as-of 2027-01-15"
$BIN report transparency $R --period 2026H2 --format md,html,json,csv --out out/reports || exit 2
$BIN report compliance $R --period 2026-09-20..2026-11-18 --format md,html,json,csv --out out/reports || exit 2
$BIN report dsa $R --period 2026H2 --out out/reports || exit 2
# A state of your own for the README's walkthrough, apart from the demo's (which already holds
# the requests above): same sample logs, nothing ingested or recorded yet.
mkdir -p out/tour
printf 'sources:\n  - path: ../../SampleLogs/logs\npolicy: ../../%s\nstate_directory: state\nledger_key: ledger.key\n' "$POLICY" > out/tour/custody.yaml
$BIN ledger init --config out/tour/custody.yaml > /dev/null || exit 2
echo; echo "== everything is under out/; out/tour/custody.yaml is an empty state for the README's walkthrough"

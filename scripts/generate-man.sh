#!/usr/bin/env bash
# Man pages from custody's command definitions, with swift-argument-parser's generate-manual
# (the plugin's tool, run on the built custody): one page per command, named as git names its
# pages (custody-request-add.1, `man custody-request-add`).
#
#   scripts/generate-man.sh CUSTODY OUTDIR           write OUTDIR/*.1 (make man)
#   scripts/generate-man.sh CUSTODY --check OUTDIR   exit 1 when OUTDIR is not what CUSTODY
#                                                    generates (make man-check; the test suite)
#
# MAN_DATE (YYYY-MM-DD) is the date printed in the pages; --check ignores it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1; shift
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
out=$1
date=${MAN_DATE:-2026-11-29}
tool=${GENERATE_MANUAL:-.build/debug/generate-manual-tool}

if [ ! -x "$tool" ]; then
  # The plugin builds the tool (and the package) the first time.
  swift package generate-manual --configuration debug --multi-page --date "$date" > /dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/raw" "$work/pages"
"$tool" "$bin" --multi-page --date "$date" --output-directory "$work/raw" > /dev/null
for page in "$work/raw"/*.1; do
  name=$(basename "$page" .1)
  # custody.request.add -> custody-request-add, in the file name, the title and the references.
  sed -E -e ':x' -e 's/^(\.Xr custody[a-z-]*)\./\1-/' -e 'tx' \
         -e ':y' -e 's/^(\.Dt CUSTODY[A-Z-]*)\./\1-/' -e 'ty' \
      "$page" > "$work/pages/${name//./-}.1"
done

if $check; then
  if ! diff -r -I '^\.Dd ' "$out" "$work/pages" > "$work/diff"; then
    echo "$out is not what the command definitions generate; run 'make man' and commit it:" >&2
    head -n 40 "$work/diff" >&2
    exit 1
  fi
else
  mkdir -p "$out"
  rm -f "$out"/*.1
  cp "$work/pages"/*.1 "$out"/
  echo "wrote $(ls "$work/pages" | wc -l) man pages to $out"
fi

#!/usr/bin/env bash
# Renders the HTML reports under out/reports with headless Chromium at desktop and phone
# widths, to PNG files beside them, and prints each to PDF, for a person to look at. Not part of CI.
#   apt-get install chromium   (once)
#   make demo && bash scripts/screenshot-reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BROWSER=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$BROWSER" ] || { echo "install chromium first (apt-get install chromium)" >&2; exit 2; }
for page in out/reports/*.html; do
  for size in desktop:1280,2400 phone:390,3000; do
    name=${size%%:*}; window=${size##*:}
    "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$window" \
      --screenshot="${page%.html}-$name.png" "file://$PWD/$page" >/dev/null 2>&1
    echo "${page%.html}-$name.png"
  done
  # Printed as a reader would print it (A4 landscape from the page's print CSS), to check that
  # no table loses a column.
  "$BROWSER" --headless --no-sandbox --disable-gpu --no-pdf-header-footer --print-to-pdf="${page%.html}.pdf" "file://$PWD/$page" >/dev/null 2>&1
  echo "${page%.html}.pdf"
done

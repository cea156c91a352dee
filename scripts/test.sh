#!/usr/bin/env bash
# The whole test suite, from a clean checkout: installs what is missing
# (scripts/setup.sh is idempotent), builds, runs every vitest file, and ends
# with one plain summary line ("N passed, N failed, N skipped").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
report=$(mktemp /tmp/vifd-test-report.XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npm run --silent typecheck
# Import rules (.dependency-cruiser.cjs, docs/ARCHITECTURE.md "Layers").
npx depcruise src test bench
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || echo "0 passed, 1 failed"
exit "$status"

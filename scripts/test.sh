#!/usr/bin/env bash
# The whole test suite, from a clean checkout: installs what is missing
# (scripts/setup.sh is idempotent), builds, runs every vitest file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vitest run "$@"

#!/usr/bin/env bash
# The whole test suite: types, lint, unit tests, then the lab tests (root: network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
npx eslint .
mapfile -t unit_tests < <(find build/test/unit -name '*.test.js' | sort)
node --test --test-reporter=spec "${unit_tests[@]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "lab tests need root (network namespaces, raw sockets): skipped because uid=$(id -u)"
  exit 0
fi
node build/test/lab/sweep.js || true
mapfile -t lab_tests < <(find build/test/lab -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-reporter=spec "${lab_tests[@]}"

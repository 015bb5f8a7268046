#!/usr/bin/env bash
# `npm test`: everything the suite needs, then the suite. On a fresh Debian machine (root) this installs etcd and
# MariaDB, the npm packages, and builds the reference softIoc once (cached outside the clone); each step is a no-op
# when its work is already done. Then: build, typecheck, lint, and vitest (unit, then integration tests against a
# real 3-member etcd cluster that the suite starts on free ports and stops again).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build-softioc.sh >/dev/null
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
npm run --silent build
npm run --silent typecheck
npm run --silent lint
exec npx vitest run "$@"

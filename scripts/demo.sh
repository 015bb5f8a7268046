#!/usr/bin/env bash
# `npm run demo`: on a fresh Debian machine, install what is missing (npm packages, etcd, MariaDB), build, then run
# the whole system (`pvsync demo`) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
npm run --silent build
exec node bin/pvsync.js demo "$@"

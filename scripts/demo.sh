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
# The example IOCs load EPICS Base's softIoc.dbd: use the reference build the tests cache (scripts/build-softioc.sh)
# when there is one, so their records are checked against the real record types instead of a warning per IOC.
if [ -z "${EPICS_BASE:-}" ]; then
  for d in /var/cache/pvsync/epics-base-*/work/epics-base-*; do
    if [ -f "$d/dbd/softIoc.dbd" ]; then export EPICS_BASE="$d"; break; fi
  done
fi
exec node bin/pvsync.js demo "$@"

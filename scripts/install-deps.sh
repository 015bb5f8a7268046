#!/usr/bin/env bash
# Install the system packages pvsync's tests and demo need (Debian): etcd-server, etcd-client, mariadb-server,
# openssl (the CA and certificates of a secured cluster, docs/security.md) and nftables (the partition tests cut etcd
# members off inside network namespaces), chromium (the console's browser tests drive Debian's Chromium, headless)
# with fonts-dejavu-core for its text.
# Idempotent: installs only what is missing, runs `apt-get update` at most once and only when a package is unknown,
# and waits for a dpkg lock held by another process instead of failing. Needs root when something is missing.
set -euo pipefail

packages=(etcd-server etcd-client mariadb-server openssl nftables chromium fonts-dejavu-core)
apt_opts=(-o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
known() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; }

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present: ${packages[*]}"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${missing[*]} and this is not Debian/Ubuntu; install etcd 3.4+ and MariaDB by hand" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root: sudo $0" >&2
  exit 1
fi

for p in "${missing[@]}"; do
  if ! known "$p"; then
    echo "install-deps: $p unknown to apt; updating the package lists"
    apt-get "${apt_opts[@]}" update
    break
  fi
done
echo "install-deps: installing ${missing[*]}"
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

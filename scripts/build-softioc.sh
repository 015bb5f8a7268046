#!/usr/bin/env bash
# Build EPICS Base's softIoc from Debian's source package `epics-base` and cache it outside the clone.
# The real softIoc is the reference the IOC-configuration parser is compared with (docs/softioc-reference.md).
#
#   scripts/build-softioc.sh            # build once, or print the cached build at once
#   PVSYNC_SOFTIOC_CACHE=/some/dir scripts/build-softioc.sh
#
# The machine's own apt sources are left untouched: `apt-get source` gets its deb-src entry from a private apt
# configuration (source list, empty parts dir, private lists dir) written under the cache.
# Last line of output: `<path of softIoc> <dir holding softIoc.dbd>`; the same facts go to $CACHE/softioc.json.
set -euo pipefail

EPICS_VERSION="${PVSYNC_EPICS_VERSION:-7.0.3.1}"
CACHE="${PVSYNC_SOFTIOC_CACHE:-/var/cache/pvsync/epics-base-${EPICS_VERSION}}"
JOBS="${PVSYNC_SOFTIOC_JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf 'build-softioc: %s\n' "$*" >&2; }
die() { printf 'build-softioc: error: %s\n' "$*" >&2; exit 1; }

# The cached build is usable when softIoc starts, loads its dbd and exits cleanly on `exit`. (7.0.3.1's softIoc has
# no working -D option: it always loads ../../dbd/softIoc.dbd relative to its own directory.)
softioc_runs() {
  local bin="$1" dbd="$2"
  [[ -x "$bin" && -f "$dbd/softIoc.dbd" ]] || return 1
  local out
  out="$(printf 'exit\n' | timeout 20 "$bin" 2>&1)" || return 1
  [[ "$out" == *softIoc_registerRecordDeviceDriver* ]]
}

# Print the cached build and exit 0 if it is there and works.
report_cached() {
  local meta="$CACHE/softioc.json" bin dbd
  [[ -f "$meta" ]] || return 1
  bin="$(sed -n 's/.*"softIoc": *"\([^"]*\)".*/\1/p' "$meta")"
  dbd="$(sed -n 's/.*"dbdDir": *"\([^"]*\)".*/\1/p' "$meta")"
  softioc_runs "$bin" "$dbd" || return 1
  printf '%s %s\n' "$bin" "$dbd"
}

mkdir -p "$CACHE"
if report_cached; then exit 0; fi

# One build per machine at a time: a second caller waits, then finds the cached build.
exec 9>"$CACHE/.lock"
flock 9
if report_cached; then exit 0; fi

[[ "$(id -u)" == 0 ]] || die "must run as root (it installs build tools with apt-get)"
started=$(date +%s)

# --- build tools (only what `make` needs for libcom, ca, database and softIoc) ---------------------------------
need=()
for pkg in build-essential perl libreadline-dev dpkg-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
    || die "cannot install ${need[*]}"
fi

# --- private apt configuration with a deb-src entry --------------------------------------------------------------
# deb-src lines mirror the machine's own Debian `deb` entries (same URIs, same keyring), for the release codename.
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[[ -n "$codename" ]] || die "cannot tell the Debian release from /etc/os-release"
aptdir="$CACHE/apt"
rm -rf "$aptdir"
mkdir -p "$aptdir/parts" "$aptdir/lists/partial"
srclist="$aptdir/sources.list"
: >"$srclist"
{
  # one-line style: deb [options] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v cn="$codename" '$1 == "deb" {
      opts = ""; i = 2
      if ($2 ~ /^\[/) { while (i <= NF) { opts = opts (opts == "" ? "" : " ") $i; if ($i ~ /\]$/) break; i++ } ; i++ }
      uri = $i; suite = $(i + 1)
      if (suite == cn && $0 ~ / main( |$)/) print "deb-src " (opts == "" ? "" : opts " ") uri " " cn " main"
    }' "$f"
  done
  # deb822 style: paragraphs with Types/URIs/Suites/Components/Signed-By
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v cn="$codename" -v RS= '{
      types = ""; uris = ""; suites = ""; comps = ""; key = ""; enabled = "yes"
      n = split($0, lines, "\n")
      for (j = 1; j <= n; j++) {
        line = lines[j]; if (line ~ /^#/) continue
        k = line; sub(/:.*/, "", k); v = line; sub(/^[^:]*:[ \t]*/, "", v)
        if (k == "Types") types = v; else if (k == "URIs") uris = v; else if (k == "Suites") suites = v
        else if (k == "Components") comps = v; else if (k == "Signed-By") key = v; else if (k == "Enabled") enabled = v
      }
      if (enabled == "no" || (" " types " ") !~ / deb / || (" " suites " ") !~ (" " cn " ") || (" " comps " ") !~ / main /) next
      nu = split(uris, u, /[ \t]+/)
      for (j = 1; j <= nu; j++) if (u[j] != "") print "deb-src " (key == "" ? "" : "[signed-by=" key "] ") u[j] " " cn " main"
    }' "$f"
  done
} | sort -u >"$srclist"
[[ -s "$srclist" ]] || die "found no Debian '$codename main' entry in the machine's apt sources to derive a deb-src entry from"
log "private deb-src entries: $(tr '\n' ';' <"$srclist")"

apt_private=(
  -o "Dir::Etc::SourceList=$srclist"
  -o "Dir::Etc::SourceParts=$aptdir/parts"
  -o "Dir::State::Lists=$aptdir/lists"
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_private[@]}" update -qq >&2 || die "apt-get update with the private deb-src list failed"

# --- fetch and unpack the source ----------------------------------------------------------------------------------
work="$CACHE/work"
rm -rf "$work"
mkdir -p "$work"
(cd "$work" && apt-get "${apt_private[@]}" source -qq epics-base >&2) || die "apt-get source epics-base failed"
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'epics-base-*' | head -n 1)"
[[ -n "$src" && -f "$src/configure/CONFIG" ]] || die "unpacked source not found under $work"
got="$(sed -n 's/^EPICS_VERSION *= *//p;s/^EPICS_REVISION *= *//p;s/^EPICS_MODIFICATION *= *//p;s/^EPICS_PATCH_LEVEL *= *//p' \
  "$src/configure/CONFIG_BASE_VERSION" | paste -sd.)"
log "unpacked $(basename "$src") (EPICS Base $got)"
[[ "$got" == "$EPICS_VERSION" ]] || log "warning: source is EPICS Base $got, cache is named for $EPICS_VERSION"

# --- build only what softIoc needs -------------------------------------------------------------------------------
arch="$(perl "$src/src/tools/EpicsHostArch.pl")"
export EPICS_HOST_ARCH="$arch"
# Only the libraries and programs (no tests, no pvAccess submodules): configure, the perl tools, libcom, ca, database.
dirs=(configure src/tools modules/libcom/src modules/ca/src modules/database/src)
log "building for $arch with $JOBS jobs: ${dirs[*]}"
buildlog="$CACHE/build.log"
: >"$buildlog"
for dir in "${dirs[@]}"; do
  if ! make -C "$src/$dir" -j"$JOBS" >>"$buildlog" 2>&1; then
    tail -n 40 "$buildlog" >&2
    die "make in $dir failed (full log: $buildlog)"
  fi
done

bin="$src/bin/$arch/softIoc"
dbd="$src/dbd"
softioc_runs "$bin" "$dbd" || die "built softIoc at $bin does not start with $dbd/softIoc.dbd"
# Object directories are not needed once installed.
find "$src" -type d -name 'O.*' -prune -exec rm -rf {} + 2>/dev/null || true

cat >"$CACHE/softioc.json" <<EOF
{
  "softIoc": "$bin",
  "dbdDir": "$dbd",
  "epicsVersion": "$got",
  "hostArch": "$arch",
  "buildSeconds": $(($(date +%s) - started))
}
EOF
log "built in $(($(date +%s) - started)) s"
printf '%s %s\n' "$bin" "$dbd"

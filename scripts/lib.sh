# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Sourced, not executed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GPUFLEET_VENV:-$REPO_ROOT/.venv}"
export REPO_ROOT VENV

say()  { printf '\033[1m[%s]\033[0m %s\n' "${GPUFLEET_STEP:-gpufleet}" "$*"; }
warn() { printf '\033[33m[%s] WARNING:\033[0m %s\n' "${GPUFLEET_STEP:-gpufleet}" "$*" >&2; }
die()  { printf '\033[31m[%s] FAILED:\033[0m %s\n' "${GPUFLEET_STEP:-gpufleet}" "$*" >&2; exit 1; }

# Run a command as one named step; on failure name the step and stop.
step() {
  local name="$1"; shift
  GPUFLEET_STEP="$name"
  say "$*"
  "$@" || die "step '$name' failed (command: $*)"
}

# apt-get install only what is missing; needs root on Debian/Ubuntu.
apt_ensure() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
  [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root (run with sudo)"
  say "installing Debian packages: ${missing[*]}"
  # Another layer running alongside (or unattended-upgrades) may hold the dpkg lock: wait for it.
  local wait=(-o DPkg::Lock::Timeout=600)
  if [ ! -f /tmp/.gpufleet-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq "${wait[@]}" || die "apt-get update failed: is the Debian archive reachable?"
    touch /tmp/.gpufleet-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wait[@]}" "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

#!/usr/bin/env bash
# Installs the real Python parts the tests use, once: Debian's python3-torch (a real training
# loop), jupyter-nbconvert and python3-ipykernel (a real notebook kernel) and python3-venv (the
# package installed by pip into a virtual environment). Idempotent: nothing to do when present.
set -euo pipefail
packages=(python3-torch jupyter-nbconvert python3-ipykernel python3-venv)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "[python-setup] FAILED: not root: install the Debian packages ${missing[*]}, then run again" >&2
  exit 1
fi
echo "[python-setup] apt: ${missing[*]}"
log=$(mktemp)
if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "[python-setup] FAILED: apt-get install ${missing[*]}; last lines of $log:" >&2
  tail -25 "$log" | sed 's/^/  | /' >&2
  exit 1
fi
rm -f "$log"

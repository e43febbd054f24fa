#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for the browser tests, poppler and NSS tools for PDF
# and signature checks, PostgreSQL for the second database run.
# Installs only what is missing; needs root (CI runs as root). Without root it says what to install.
set -euo pipefail
packages=(chromium poppler-utils libnss3-tools postgresql)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Debian packages the tests need (real servers and a real browser), installed when missing.
# `make test` calls this; on a machine without root or apt it says what is missing and goes on.
set -euo pipefail
PACKAGES=(
  chromium  # headless browser for the passport pages and UI tests (never a downloaded one)
  postgresql-15  # the production warehouse and Dagster storage (initdb/pg_ctl in tests)
  openssh-server  # a real sshd on loopback for the SFTP tests and `make demo`
  openssh-client  # ssh-keygen / ssh-keyscan for test and demo keys
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${missing[*]} (install them as root with apt-get)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

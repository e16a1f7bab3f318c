#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (see docs/testing.md).
# Only what is missing is installed; nothing runs when everything is present.
set -euo pipefail

need=()
# binary-to-check:package
for pair in \
  "/usr/lib/postgresql/*/bin/initdb:postgresql" \
  "/usr/bin/prometheus:prometheus" \
  "/usr/sbin/haproxy:haproxy" \
  "/usr/sbin/nginx:nginx" \
  "/usr/bin/wrk:wrk" \
  "/usr/bin/git:git" \
  "/usr/bin/chromium:chromium"; do
  bin=${pair%%:*}
  pkg=${pair#*:}
  if ! ls $bin >/dev/null 2>&1; then
    need+=("$pkg")
  fi
done

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: ${need[*]} missing and not root; install them with apt-get" >&2
  exit 3
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"

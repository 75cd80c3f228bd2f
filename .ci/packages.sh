#!/usr/bin/env bash
# System packages some suites need, installed from Debian when missing (called by .ci/run).
set -euo pipefail
# Headless browser test of the demo chat page (playwright-core drives Debian's chromium).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
echo "chromium $(dpkg-query -W -f="\${Version}" chromium)"
# promtool (test/deploy/promtool.spec.ts: check and unit-test the alerts and dashboard PromQL).
# --no-install-recommends: the tool, not a Prometheus server's web assets.
if ! command -v promtool >/dev/null; then
  echo "installing promtool (Debian prometheus)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi
promtool --version | head -1

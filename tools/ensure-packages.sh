#!/usr/bin/env bash
# Installs the Debian packages Pan's test suite needs (PostgreSQL server, an SMTP server for email tests, zbarimg to
# decode the QR codes and barcodes Pan draws, Chromium and a CJK font for the real-browser tests of the hosted pages),
# only when they are missing. Needs root or sudo the first time.
set -euo pipefail

need=()
[ -x "$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)/initdb" ] 2>/dev/null || need+=(postgresql)
python3 -c 'import aiosmtpd' 2>/dev/null || /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need+=(python3-aiosmtpd)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
# Why Debian's Chromium: the browser tests drive /usr/bin/chromium with playwright-core and never download a browser.
[ -x /usr/bin/chromium ] || need+=(chromium)
# Why a CJK font: the pages are also in Traditional Chinese, and the tests keep screenshots of them.
fc-list 2>/dev/null | grep -qi 'wqy\|noto sans cjk' || need+=(fonts-wqy-zenhei)

if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs everything smb-interop needs on Debian (12 or newer) with Node 20+, skipping what is
# already present: Samba's smbd, smbclient and testparm, nss_wrapper (native targets keep their
# accounts in private passwd files read through it), tshark, Chromium (the report's browser tests
# drive Debian's build; no browser is downloaded), and the npm packages.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }
trap 'echo "!! setup failed at line $LINENO: $BASH_COMMAND" >&2' ERR

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v smbd >/dev/null 2>&1 || [ -x /usr/sbin/smbd ] || need+=(samba)
command -v smbclient >/dev/null 2>&1 || need+=(smbclient)
[ -x /usr/sbin/samba ] && command -v samba-tool >/dev/null 2>&1 || need+=(samba-ad-dc samba-ad-provision)
compgen -G '/usr/lib/*/libnss_wrapper.so' >/dev/null || [ -e /usr/lib/libnss_wrapper.so ] || need+=(libnss-wrapper)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The peer clients' libraries: go-smb2 (with Go, to build its driver offline) and impacket.
[ -x /usr/bin/go ] || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/hirochachacha/go-smb2 ] || need+=(golang-github-hirochachacha-go-smb2-dev)
[ -d /usr/lib/python3/dist-packages/impacket ] || need+=(python3-impacket)
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  step "Debian packages present: samba, smbclient, libnss-wrapper, tshark, chromium, golang-go, go-smb2, impacket"
fi
# Samba's own service is not needed (the harness starts its own smbd on loopback ports).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet smbd 2>/dev/null; then
  $SUDO systemctl stop smbd nmbd 2>/dev/null || true
fi
smbd --version >/dev/null 2>&1 || /usr/sbin/smbd --version >/dev/null

step "go-smb2 driver (clients/drivers/go-smb2/build.sh)"
clients/drivers/go-smb2/build.sh

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "!! Node $node_major found; smb-interop needs Node 20 or newer" >&2
  exit 1
fi

if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.smb-interop-lock 2>/dev/null; then
  step "npm packages up to date"
  npm run --silent build
else
  step "npm ci"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.smb-interop-lock
fi

# The optional native modules: the in-place AEAD (clients/smb/crypto/native.ts), client
# processes started without forking the harness (servers/spawn.ts) and the passive loopback
# capture (harness/capture/passive.ts). Everything works without them, slower, so a failed build
# is reported, not fatal.
step "native modules (npm run build:native)"
npm run --silent build:native || echo "!! native modules not built: the client decrypts through node:crypto, client processes start through child_process, cells capture through the relaying proxy"

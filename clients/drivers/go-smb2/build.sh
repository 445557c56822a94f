#!/usr/bin/env bash
# Builds build/smb-interop-go-smb2 offline from Debian's go-smb2 sources (GOPATH mode, no module
# proxy), unless the binary is current. Needs golang-go and
# golang-github-hirochachacha-go-smb2-dev (scripts/setup.sh installs both).
set -Eeuo pipefail
cd "$(dirname "$0")"
gopath=/usr/share/gocode
library="$gopath/src/github.com/hirochachacha/go-smb2"
binary=build/smb-interop-go-smb2

command -v go >/dev/null 2>&1 || { echo "!! go-smb2 driver: no go compiler (Debian: apt-get install golang-go)" >&2; exit 1; }
[ -d "$library" ] || { echo "!! go-smb2 driver: $library is missing (Debian: apt-get install golang-github-hirochachacha-go-smb2-dev)" >&2; exit 1; }

version="$(dpkg-query -W -f='${Version}' golang-github-hirochachacha-go-smb2-dev 2>/dev/null || echo unknown)"
# The binary is current when neither the driver's sources, the packaged library nor Go changed.
stamp="$(cat ./*.go build.sh | sha256sum | cut -c1-16) go-smb2 $version $(go env GOVERSION)"
if [ -x "$binary" ] && [ "$(cat build/.stamp 2>/dev/null)" = "$stamp" ]; then
  echo "go-smb2 driver up to date: clients/drivers/go-smb2/$binary"
  exit 0
fi
mkdir -p build
GO111MODULE=off GOPATH="$gopath" GOCACHE="$PWD/build/.gocache" GOFLAGS= \
  go build -trimpath -ldflags "-X main.libraryVersion=${version%%-*}" -o "$binary.tmp" .
mv "$binary.tmp" "$binary"
echo "$stamp" > build/.stamp
echo "go-smb2 driver built: clients/drivers/go-smb2/$binary (go-smb2 ${version%%-*})"

#!/usr/bin/env bash
# Makes a Docker engine and the Debian base images the Samba container targets build FROM
# available on a Debian machine that cannot reach a container registry:
#   1. installs Debian's docker.io and debootstrap when missing,
#   2. starts dockerd in the background when no engine answers (log: $DOCKERD_LOG),
#   3. seeds debian:bookworm-slim, debian:trixie-slim and debian:sid-slim with debootstrap when
#      the engine lacks them (the three in parallel).
# Idempotent: every step is skipped when its result is already there. Where Docker Hub is
# reachable (a laptop with Docker Desktop, a GitHub Actions runner) none of this is needed.
#
# Environment: DOCKERD_LOG (default /var/log/smb-interop-dockerd.log),
#   DOCKER_WAIT_SECONDS (default 60), DEBIAN_MIRROR (default http://deb.debian.org/debian),
#   SMB_INTEROP_BASE_SUITES (default "bookworm trixie sid").
set -Eeuo pipefail
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "!! bootstrap-docker: $*" >&2; exit 1; }
trap 'echo "!! bootstrap-docker failed at line $LINENO: $BASH_COMMAND" >&2' ERR

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/smb-interop-dockerd.log}"
DOCKER_WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
read -r -a SUITES <<<"${SMB_INTEROP_BASE_SUITES:-bookworm trixie sid}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# 1. Packages.
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "apt-get install ${need[*]} failed"
else
  step "Debian packages present: docker.io, debootstrap"
fi
command -v docker >/dev/null 2>&1 || fail "no docker CLI on PATH after installing docker.io"

# 2. Engine.
if engine_answers; then
  step "Docker engine already running"
else
  step "starting dockerd (log: $DOCKERD_LOG)"
  $SUDO mkdir -p "$(dirname "$DOCKERD_LOG")"
  # setsid: the daemon outlives this script and is not in its process group.
  $SUDO setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  deadline=$((SECONDS + DOCKER_WAIT_SECONDS))
  until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "!! last lines of $DOCKERD_LOG:" >&2
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      fail "dockerd did not answer within ${DOCKER_WAIT_SECONDS}s"
    fi
    sleep 0.5
  done
  echo "dockerd is up after $((SECONDS - deadline + DOCKER_WAIT_SECONDS))s"
fi

# 3. Base images.
seed_suite() {
  local suite="$1" image="debian:$1-slim" dir log
  dir="$(mktemp -d "/tmp/smb-interop-rootfs-$suite.XXXXXX")"
  log="$dir.log"
  if ! $SUDO debootstrap --variant=minbase "$suite" "$dir" "$DEBIAN_MIRROR" >"$log" 2>&1; then
    echo "!! debootstrap $suite failed; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    $SUDO rm -rf "$dir"
    return 1
  fi
  # Smaller images and faster builds: no apt lists or package cache in the base.
  $SUDO rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb
  # The mirror these machines reach may serve a frozen snapshot whose Release files are past
  # their Valid-Until date; builds FROM this image must still be able to apt-get install.
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
    | $SUDO tee "$dir/etc/apt/apt.conf.d/99smb-interop-mirror" >/dev/null
  if ! $SUDO tar -C "$dir" -c . | docker import - "$image" >>"$log" 2>&1; then
    echo "!! docker import $image failed; see $log" >&2
    $SUDO rm -rf "$dir"
    return 1
  fi
  $SUDO rm -rf "$dir" "$log"
  echo "seeded $image"
}

missing=()
for suite in "${SUITES[@]}"; do
  docker image inspect "debian:$suite-slim" >/dev/null 2>&1 || missing+=("$suite")
done
if [ ${#missing[@]} -eq 0 ]; then
  step "base images present: ${SUITES[*]/%/-slim}"
else
  step "seeding base images with debootstrap: ${missing[*]}"
  pids=()
  for suite in "${missing[@]}"; do
    seed_suite "$suite" &
    pids+=("$!")
  done
  failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || fail "could not seed every base image (see the messages above)"
fi

docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' 'debian' | sort

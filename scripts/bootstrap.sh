#!/usr/bin/env bash
# Installs every Debian/Ubuntu package that hearth's build, tests and fuzzing need
# (emscripten builds the web UI; chromium runs its browser tests).
# Idempotent: when everything is present already it changes nothing (and needs no network).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libpcre2-dev
  clang libclang-rt-dev
  libboost1.81-dev libtomlplusplus-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libespeak-ng-dev espeak-ng-data
  libflac-dev libmp3lame-dev libopus-dev libopusenc-dev libsoxr-dev
  libvulkan-dev glslc mesa-vulkan-drivers
  emscripten chromium
)
# The llama.cpp reference for the differential tests comes from npm; a node the
# machine already has (e.g. a newer one) is kept.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
echo "bootstrap: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

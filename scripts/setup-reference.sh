#!/usr/bin/env bash
# Installs the llama.cpp reference used by hearth's tests and benchmarks (never at run time):
# node-llama-cpp 3.21.1 (prebuilt llama.cpp binaries) and koffi (FFI, for raw logits) into
# tests/reference/node_modules, exactly as pinned by tests/reference/package-lock.json.
#
# Idempotent and quick when already installed. Never builds or downloads llama.cpp itself:
# install scripts are skipped (node-llama-cpp's postinstall would only try to fetch/build
# binaries; the prebuilt ones come as npm packages), and NODE_LLAMA_CPP_SKIP_DOWNLOAD is set.
# Always exits 0: prints "reference ready" on success, or "reference unavailable: <why>".
#
# Options: --check  only report whether the reference is installed, install nothing.
#          --force  reinstall even if it looks installed.
#          --keep-gpu-binaries  keep the CUDA/Vulkan/ARM prebuilt packages npm pulls in
#                               (about 650 MB; pruned by default since the reference is CPU-only).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ref="$here/tests/reference"
check_only=0 force=0 keep_gpu=0
for a in "$@"; do
    case "$a" in
        --check) check_only=1 ;;
        --force) force=1 ;;
        --keep-gpu-binaries) keep_gpu=1 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "setup-reference: unknown option $a" >&2; exit 2 ;;
    esac
done

unavailable() { echo "reference unavailable: $*"; exit 0; }

command -v node >/dev/null 2>&1 || unavailable "node not found on PATH (need Node.js >= 20)"
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$node_major" -ge 20 ] 2>/dev/null || unavailable "Node.js >= 20 needed, found $(node -v 2>/dev/null)"
[ -f "$ref/package-lock.json" ] || unavailable "missing $ref/package-lock.json"

# Installed (the pinned versions) and loadable (llama.cpp's CPU prebuilt and koffi)? On failure,
# the reason is left in $why.
why=""
is_ready() {
    why="$(cd "$ref" && node check.mjs 2>&1 >/dev/null)" && return 0
    why="$(printf '%s' "$why" | grep -v '^\s*at ' | head -n 3 | tr '\n' ' ' | cut -c1-300)"
    return 1
}

if [ "$force" = 0 ] && [ -d "$ref/node_modules" ] && is_ready; then
    echo "reference ready"
    exit 0
fi
[ "$check_only" = 1 ] && unavailable "not installed in $ref/node_modules (run scripts/setup-reference.sh)"

command -v npm >/dev/null 2>&1 || unavailable "npm not found on PATH"

echo "setup-reference: installing node-llama-cpp into $ref/node_modules ..." >&2
log="$(mktemp)"
if ! (cd "$ref" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --ignore-scripts --no-audit --no-fund \
        --loglevel=error >"$log" 2>&1); then
    why="$(grep -m1 -iE 'ERR!|error' "$log" | sed 's/^npm error //' | cut -c1-200)"
    rm -f "$log"
    unavailable "npm ci failed in $ref (registry unreachable?): ${why:-see npm output}"
fi
rm -f "$log"

if [ "$keep_gpu" = 0 ]; then
    # The reference always runs on the CPU: drop the GPU/foreign-arch prebuilt binaries.
    # Keep only this platform's CPU package (linux-x64, linux-arm64, mac-arm64-metal, win-x64...).
    mine="$(node -p '({linux:"linux",darwin:"mac",win32:"win"}[process.platform]||process.platform)+"-"+process.arch')"
    for d in "$ref"/node_modules/@node-llama-cpp/*; do
        case "$(basename "$d")" in
            *cuda*|*vulkan*) rm -rf "$d" ;;
            "$mine"|"$mine"-metal) ;;
            *) rm -rf "$d" ;;
        esac
    done
fi

is_ready || unavailable "installed, but llama.cpp's prebuilt binaries do not load here: $why"
echo "reference ready"

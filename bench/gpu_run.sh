#!/usr/bin/env bash
# Prepared device check: absolute GPU figures for the WebGPU kernels.
# Run on the lent GPU machine (no network there), from the repository root,
# carrying .gl (Vulkan loader debs, see the device tool's README) and
# .gpu/deno (the Deno binary: cp "$(command -v deno)" .gpu/deno here first).
set -euo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_RUNTIME_DIR="$(mktemp -d)"
export DENO_WEBGPU_BACKEND=vulkan
nvidia-smi --query-gpu=name,clocks.max.sm --format=csv || true
.gpu/deno run -A --no-lock bench/gpu_figures.ts --out "${OUT:-.}/gpu.json"

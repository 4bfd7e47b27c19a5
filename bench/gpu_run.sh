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
# The scale benchmark (bench/scale.ts) on the WebGPU backend at a moderate
# size: the stages' absolute times and memory on this GPU. Its inputs
# (written first, on the CPU) need the reference data (the 2 mm MNI mask,
# Yeo-7): $BRAINORG_DATA or ../shared/data.
.gpu/deno run -A --no-lock bench/scale.ts --backend webgpu --ans 32768 --voxels 65536 \
  --subjects 2 --surrogates 16 --passes 10 --dir "$(mktemp -d)" \
  --out "${OUT:-.}/scale_gpu.json" --md "${OUT:-.}/scale_gpu.md" --label "WebGPU, moderate size" ||
  echo "scale benchmark on WebGPU failed (exit $?)"

#!/usr/bin/env bash
# Retrains SHADE-1, the learned daily-profile model of station-level detection, from scratch:
#   1. the Python environment (.tools/models-venv, pinned by models/training/requirements.txt; created once)
#   2. training and validation station-days from the station-day simulator (models/training/shade/),
#      profiles through the TypeScript feature code (models/serving/shade/profile.ts)
#   3. PyTorch training on ONE thread, ONNX export, onnxruntime check, calibration, model card
#   4. the held-out evaluation (other seeds, station sizes and vehicles): the SHADE section of
#      models/EVALUATION.md
# Writes models/artifacts/shade-1.onnx and shade-1.card.json (committed), models/datasets/shade-* (gitignored).
# Sizes can be overridden: TRAIN_STATIONS VAL_STATIONS EPOCHS.
set -euo pipefail
cd "$(dirname "$0")/../.."
. models/training/setup.sh

echo "== Station-days"
"$TSX" models/training/shade/export-dataset.ts --seed shade-train-1 --stations "${TRAIN_STATIONS:-200}" --days 28 \
  --fault-rate 0.4 --new-share 0.15 --out models/datasets/shade-train
"$TSX" models/training/shade/export-dataset.ts --seed shade-val-1 --stations "${VAL_STATIONS:-40}" --days 14 \
  --fault-rate 0.5 --new-share 0 --out models/datasets/shade-val

echo "== Training (1 thread)"
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PY" models/training/shade/train_shade.py \
  --train models/datasets/shade-train --val models/datasets/shade-val --out models/artifacts --epochs "${EPOCHS:-30}"

echo "== Held-out evaluation"
"$TSX" models/training/shade/evaluate-cli.ts --write
echo "== done in $(( $(date +%s) - start )) s"

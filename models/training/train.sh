#!/usr/bin/env bash
# Retrains every learned model from scratch: CSAR-2, CSAR-C-2 and SORC.
#   1. the Python environment (.tools/models-venv, pinned by models/training/requirements.txt; created once)
#   2. training and validation tensors from the simulator, through the TypeScript features, with the
#      held-out slices (some vehicles, one sampling regime, one behaviour family) left out
#   3. PyTorch training on ONE thread, ONNX export, onnxruntime check, reference outputs, model cards
#   4. post-processing (thresholds, calibrated confidence, physics sources) fitted on validation
#   5. the held-out evaluation (the in-distribution test split and each held-out slice):
#      models/EVALUATION.md and the cards' metrics
# Writes models/artifacts/ (committed) and models/datasets/ (gitignored).
# Sizes can be overridden: TRAIN_COUNT VAL_COUNT TEST_COUNT HELDOUT_COUNT AE_EPOCHS CLF_EPOCHS SORC_EPOCHS.
set -euo pipefail
cd "$(dirname "$0")/../.."
. models/training/setup.sh

echo "== Datasets"
"$TSX" models/training/export-dataset.ts --seed csar-train-1 --count "${TRAIN_COUNT:-8000}" --holdout exclude --out models/datasets/train
"$TSX" models/training/export-dataset.ts --seed csar-val-1 --count "${VAL_COUNT:-2000}" --holdout exclude --out models/datasets/val

echo "== Training (1 thread)"
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PY" models/training/train/train.py \
  --train models/datasets/train --val models/datasets/val --out models/artifacts \
  --ae-epochs "${AE_EPOCHS:-5}" --clf-epochs "${CLF_EPOCHS:-12}" --sorc-epochs "${SORC_EPOCHS:-12}"

echo "== Calibration on validation (held-out slices excluded, as preparedCorpus does by default)"
"$TSX" models/training/calibrate.ts --seed csar-val-1 --count "${VAL_COUNT:-2000}" --dir models/artifacts

echo "== Held-out evaluation"
"$TSX" models/training/evaluate.ts --seed csar-test-1 --count "${TEST_COUNT:-3000}" \
  --heldout-count "${HELDOUT_COUNT:-1000}" --dir models/artifacts > /dev/null
echo "wrote models/EVALUATION.md"
echo "== done in $(( $(date +%s) - start )) s"

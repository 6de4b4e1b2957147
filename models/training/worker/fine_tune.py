"""The fine-tuning activities of the Python training worker (task queue `training`), called by the
workflow `fine-tune/<tenant>/<job>` (workflows/fine-tune/): train, evaluate, export ONNX.

Everything model-related is the offline pipeline's own code (models/training/train/): the networks
(nets.py), the tensor reader and batching (data.py), the schedule and reports (train.py), the ONNX
export with its onnxruntime check (export.py). Training starts from the served graph's weights,
read from its ONNX initializers (the committed artifacts carry no PyTorch checkpoint).

Durability: `trainFineTune` saves a checkpoint after every epoch (atomically) and heartbeats its
progress (epoch, loss, history, the checkpoint's path); a retried attempt — the worker was killed,
the heartbeat timed out — resumes after the epoch its last heartbeat names. Cancellation arrives
through the heartbeat and is raised in the training thread by the SDK.
"""
import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from temporalio import activity
from temporalio.exceptions import ApplicationError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "models", "training", "train"))
from data import Dataset, make_batches  # noqa: E402
from nets import CSARC2Shared, recon_error  # noqa: E402
import export as onnx_export  # noqa: E402
from train import batch_x, batch_y, classifier_loss, classifier_report, optimise, pos_weights, predict_probs  # noqa: E402

# The base evaluation set: the validation corpus the base models were calibrated on.
BASE_EVAL_SEED = "csar-val-1"
# Failure types the workflow does not retry (workflows/fine-tune/contract.ts, FINE_TUNE_FAILURE).
INVALID_DATA = "InvalidTrainingData"
NO_BASE_MODEL = "NoBaseModel"
# Seconds between heartbeats inside an epoch (the SDK throttles what it sends to the server).
BEAT_EVERY = 1.0


def log(msg, **fields):
    print(json.dumps({"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "name": "training-worker", "msg": msg, **fields}), flush=True)


# ------------------------------------------------------------------------------------------------
# Models


def load_onnx_weights(path, F, C):
    """The shared-encoder CSAR-C-2 network with the weights of an exported graph (export.py names
    each initializer after its PyTorch parameter, under `model.`)."""
    if not os.path.exists(path):
        raise ApplicationError(f"the start model's graph {path} is missing", type=NO_BASE_MODEL, non_retryable=True)
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    model = CSARC2Shared(F, C)
    state = model.state_dict()
    for k, v in state.items():
        w = inits.get(f"model.{k}")
        if w is None or tuple(w.shape) != tuple(v.shape):
            raise ApplicationError(f"{path} is not a shared-encoder CSAR-C-2 graph of {F} features ({k} missing or of another shape)",
                                   type=NO_BASE_MODEL, non_retryable=True)
        state[k] = torch.from_numpy(np.array(w, dtype=np.float32))
    model.load_state_dict(state)
    return model


def open_dataset(path, feature_version):
    ds = Dataset(path)
    if ds.manifest["featureVersion"] != feature_version:
        raise ApplicationError(f"{path} holds features {ds.manifest['featureVersion']}, the job needs {feature_version}", type=INVALID_DATA, non_retryable=True)
    if not ds.sessions:
        raise ApplicationError(f"{path} holds no session", type=INVALID_DATA, non_retryable=True)
    return ds


def final_weights(work_dir):
    return os.path.join(work_dir, "fine-tuned.pt")


def load_final(data, F, C):
    model = CSARC2Shared(F, C)
    model.load_state_dict(torch.load(final_weights(data["workDir"]), weights_only=True))
    return model.eval()


# ------------------------------------------------------------------------------------------------
# Training


class Beat:
    """Heartbeats with the latest progress: at every epoch, and every BEAT_EVERY s inside one (so a
    live worker is never taken for a dead one, and a cancellation is delivered promptly)."""

    def __init__(self):
        self.last = 0.0
        self.progress = None

    def __call__(self, progress=None, force=False):
        if progress is not None:
            self.progress = progress
        now = time.monotonic()
        if force or now - self.last >= BEAT_EVERY:
            self.last = now
            activity.heartbeat(self.progress)


def save_checkpoint(path, state):
    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


@activity.defn(name="trainFineTune")
def train_fine_tune(input: dict) -> dict:
    data, cfg, job_id = input["data"], input["config"], input["jobId"]
    info = activity.info()
    t_start = time.time()
    ds = open_dataset(data["trainDir"], data["featureVersion"])
    model = load_onnx_weights(data["startOnnx"], ds.F, ds.C)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg["learningRate"], weight_decay=cfg["weightDecay"])
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    budget, epochs, lr = cfg["batchBuckets"], cfg["epochs"], cfg["learningRate"]
    lengths = np.array([s["T"] for s in ds.sessions])
    per_epoch = len(make_batches(lengths, budget, None))
    steps = epochs * per_epoch
    # A short warm-up: fine-tuning starts from trained weights (train.py's 50 steps are for scratch).
    warmup = max(1, steps // 10)
    ckpt = os.path.join(data["workDir"], "checkpoint.pt")
    history, start_epoch = [], 0

    # A retried attempt: the last heartbeat names the checkpoint of the last finished epoch.
    last = info.heartbeat_details[0] if info.heartbeat_details else None
    if last and last.get("checkpoint") and os.path.exists(last["checkpoint"]):
        state = torch.load(last["checkpoint"], weights_only=False)
        if state.get("jobId") == job_id:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torchRng"])
            start_epoch, history = state["epoch"], state["history"]
            log("resuming from checkpoint", jobId=job_id, epoch=start_epoch, attempt=info.attempt)

    pw = pos_weights(ds)[None, :, None]
    beat = Beat()
    progress = lambda ep, loss, ck: {"epoch": ep, "epochs": epochs, "loss": loss, "history": history, "checkpoint": ck}  # noqa: E731
    beat(progress(start_epoch, history[-1]["loss"] if history else None, ckpt if start_epoch else None), force=True)
    step = start_epoch * per_epoch
    for ep in range(start_epoch, epochs):
        t = time.time()
        model.train()
        tot, n = 0.0, 0
        for b in make_batches(lengths, budget, rng):
            x = batch_x(ds, b)
            # The base training's loss and step (train.py), with this job's warm-up.
            loss, _ = classifier_loss(ds, x, batch_y(ds, b), model(x), pw, cfg["reconstructionWeight"])
            optimise(opt, loss, params, lr, step, steps, warmup=warmup)
            step += 1
            tot += loss.item()
            n += 1
            beat()
        mean = round(tot / max(1, n), 6)
        if not math.isfinite(mean):
            raise ApplicationError(f"training diverged at epoch {ep + 1} (loss {mean}): lower the learning rate", type=INVALID_DATA, non_retryable=True)
        history.append({"epoch": ep + 1, "loss": mean})
        with activity.shield_thread_cancel_exception():
            save_checkpoint(ckpt, {"jobId": job_id, "epoch": ep + 1, "model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "rng": rng.bit_generator.state, "torchRng": torch.get_rng_state(), "history": history})
        beat(progress(ep + 1, mean, ckpt), force=True)
        log("epoch", jobId=job_id, epoch=ep + 1, epochs=epochs, loss=mean, seconds=round(time.time() - t, 2))
    torch.save(model.state_dict(), final_weights(data["workDir"]))
    return {"epochs": epochs, "finalLoss": history[-1]["loss"], "history": history, "resumedFromEpoch": start_epoch,
            "attempt": info.attempt, "seconds": round(time.time() - t_start, 2)}


# ------------------------------------------------------------------------------------------------
# Evaluation


def ensure_base_eval(path, sessions, feature_version, beat):
    """The base evaluation set's tensors, exported once per feature version and size by the
    offline exporter (models/training/export-dataset.ts, as train.sh does) and cached."""
    if os.path.exists(os.path.join(path, "manifest.json")):
        return
    tmp = f"{path}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tsx = os.environ.get("EVNI_TSX", os.path.join(ROOT, "node_modules", ".bin", "tsx"))
    cmd = [tsx, "models/training/export-dataset.ts", "--seed", BASE_EVAL_SEED, "--count", str(sessions), "--holdout", "exclude", "--out", tmp]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    while proc.poll() is None:
        beat()
        time.sleep(0.5)
    if proc.returncode != 0:
        raise RuntimeError(f"exporting the base evaluation set failed: {proc.stdout.read().decode()[-2000:]}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.rename(tmp, path)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another job exported it meanwhile
    with open(os.path.join(path, "manifest.json")) as f:
        if json.load(f)["featureVersion"] != feature_version:
            raise ApplicationError(f"the base evaluation set has other features than {feature_version}", type=INVALID_DATA, non_retryable=True)


@torch.no_grad()
def clean_error(model, ds, budget):
    """Mean per-bucket reconstruction error over the clean sessions (the tenant's normal), or None."""
    idx = [i for i, s in enumerate(ds.sessions) if s["clean"]]
    if not idx:
        return None
    lengths = np.array([ds.sessions[i]["T"] for i in idx])
    tot, n = 0.0, 0.0
    for b in make_batches(lengths, budget, None):
        x = batch_x(ds, [idx[k] for k in b])
        mask = x[:, 0]
        _, recon = model(x)
        tot += float((recon_error(x, recon) * mask).sum())
        n += float(mask.sum())
    return round(tot / max(1.0, n), 6)


def scores(model, ds, budget):
    rep = classifier_report(predict_probs(model, ds, budget), ds, ds.manifest["categories"])
    return {"sessions": len(ds.sessions), "bucketMacroF1": rep["bucketMacroF1"], "sessionMacroF1": rep["sessionMacroF1"],
            "score": round(rep["bucketMacroF1"] + rep["sessionMacroF1"], 4), "cleanReconstructionError": clean_error(model, ds, budget),
            "sessionF1": rep["sessionF1"]}


@torch.no_grad()
def check_weights(model, onnx_path, ds):
    """The PyTorch network must compute what the served graph computes (the weights were read right)."""
    x = torch.from_numpy(ds.x(0).copy())[None]
    probs = torch.sigmoid(model(x)[0]).numpy()
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    served = sess.run(["probs"], {"features": x.numpy()})[0]
    worst = float(np.abs(probs - served).max())
    if worst > 1e-3:
        raise ApplicationError(f"the weights read from {onnx_path} differ from its graph by {worst}", type=NO_BASE_MODEL, non_retryable=True)


@activity.defn(name="evaluateFineTune")
def evaluate_fine_tune(input: dict) -> dict:
    data = input["data"]
    beat = Beat()
    beat({"stage": "evaluating"}, force=True)
    ensure_base_eval(data["baseEvalDir"], input["baseEvalSessions"], data["featureVersion"], beat)
    held = open_dataset(data["heldOutDir"], data["featureVersion"])
    base_eval = open_dataset(data["baseEvalDir"], data["featureVersion"])
    reference = load_onnx_weights(data["referenceOnnx"], held.F, held.C).eval()
    check_weights(reference, data["referenceOnnx"], base_eval)
    tuned = load_final(data, held.F, held.C)
    budget = 24000
    out = {"heldOut": {}, "baseEvaluation": {"corpus": {"seed": BASE_EVAL_SEED, "sessions": len(base_eval.sessions)}}}
    for name, model in (("base", reference), ("fineTuned", tuned)):
        beat(force=True)
        out["heldOut"][name] = scores(model, held, budget)
        beat(force=True)
        out["baseEvaluation"][name] = scores(model, base_eval, budget)
    log("evaluated", jobId=input["jobId"], heldOut={k: v["score"] for k, v in out["heldOut"].items()},
        baseEvaluation={k: v["score"] for k, v in out["baseEvaluation"].items() if k != "corpus"})
    return out


# ------------------------------------------------------------------------------------------------
# ONNX export


@activity.defn(name="exportFineTunedModel")
def export_fine_tuned_model(input: dict) -> dict:
    """The tenant's model folder, a complete bundle for the served detector (models/serving/onnx-detector.ts):
    the fine-tuned CSAR-C-2 graph (categories and CSAR-2's error in one graph), CSAR-2 alone, and the
    base SORC and post-processing, each with its card."""
    data, job_id = input["data"], input["jobId"]
    beat = Beat()
    beat({"stage": "exporting-onnx"}, force=True)
    held = open_dataset(data["heldOutDir"], data["featureVersion"])
    F, C = held.F, held.C
    model = load_final(data, F, C)
    out = data["modelDir"]
    tmp = f"{out}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    arts = {
        "csar-c-2": onnx_export._export(onnx_export.ClassifierGraph(model, True), os.path.join(tmp, "csar-c-2.onnx"), ["probs", "error"], F),
        "csar-2": onnx_export._export(onnx_export.AEGraph(model.ae), os.path.join(tmp, "csar-2.onnx"), ["reconstruction", "error"], F),
    }
    beat(force=True)
    base_dir = data["baseArtifactsDir"]
    for f in ("sorc.onnx", "sorc.card.json", "postprocess.json"):
        shutil.copy(os.path.join(base_dir, f), os.path.join(tmp, f))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    fine_tune = {
        "jobId": job_id, "tenantId": input["tenantId"], "startedFrom": input["baseModelId"], "config": input["config"],
        "data": {"sessions": data["sessions"], "buckets": data["buckets"], "labels": data["labels"]},
        "training": input["training"], "framework": f"torch {torch.__version__}, 1 thread",
    }
    metrics = {"heldOut": input["evaluation"]["heldOut"], "baseEvaluation": input["evaluation"]["baseEvaluation"]}
    for name, kind in (("csar-c-2", "csar_c_2"), ("csar-2", "csar_2")):
        with open(os.path.join(base_dir, f"{name}.card.json")) as f:
            card = json.load(f)
        for k in ("variantComparison", "variantRule", "trainingCorpus", "validationCorpus", "trainSeconds", "trainedWith"):
            card.pop(k, None)
        card.update({
            "id": data["modelId"], "name": input["name"], "type": kind, "version": data["modelVersion"],
            "description": f"{card['name']} fine-tuned on tenant {input['tenantId']}'s sessions (job {job_id}): {card.get('description', '')}",
            "baseModel": input["baseModelId"], "artifact": arts[name], "trainedAt": now, "fineTune": fine_tune, "metrics": metrics,
        })
        if name == "csar-c-2":
            card["encoder"] = "shared"
        with open(os.path.join(tmp, f"{name}.card.json"), "w") as f:
            json.dump(card, f, indent=2)
            f.write("\n")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    os.replace(tmp, out)
    log("exported", jobId=job_id, modelDir=out)
    return {"files": sorted(os.listdir(out))}


ACTIVITIES = [train_fine_tune, evaluate_fine_tune, export_fine_tuned_model]

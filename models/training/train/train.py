"""Trains CSAR-2 (autoencoder), CSAR-C-2 (per-bucket categories; shared-encoder and separate-encoder
variants, the better one on validation is kept) and SORC (SoC reconstruction) on the tensors of
models/training/export-dataset.ts, exports each to ONNX, checks onnxruntime against PyTorch, writes
reference outputs for the parity test and a model card per model.

One thread (torch.set_num_threads(1)): the machine is shared with benchmarks.
"""
import argparse
import datetime
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

sys.path.insert(0, os.path.dirname(__file__))
from auroc import auroc  # noqa: E402
from data import Dataset, collate, make_batches  # noqa: E402
from nets import CSAR2, SORC, CSARC2Separate, CSARC2Shared, recon_error  # noqa: E402
import export as onnx_export  # noqa: E402

LOG = print
# Quality (validation session macro-F1 + bucket macro-F1) the separate variant must gain.
SEPARATE_MARGIN = 0.005


def log(*a):
    LOG(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


# ------------------------------------------------------------------------------------------------
# Batching


def batch_x(ds, idx):
    return collate([ds.x(i) for i in idx])


def batch_y(ds, idx):
    return collate([ds.y(i).astype(np.float32) for i in idx])


def cosine_lr(opt, base, step, total, warmup=50):
    lr = base * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, total))))
    for g in opt.param_groups:
        g["lr"] = lr


def optimise(opt, loss, params, lr, step, steps, warmup=50):
    """One training step, the same for every model: clipped gradients, warm-up + cosine schedule."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    cosine_lr(opt, lr, step, steps, warmup=warmup)
    opt.step()


def classifier_loss(ds, x, y, out, pw, recon_weight):
    """The classifiers' loss (base training and fine-tuning alike): BCE on every bucket; for the
    shared variant (out = logits, reconstruction) also its autoencoder's reconstruction loss on
    buckets without any anomaly, so that its error stays anomaly evidence. Returns the loss and the
    reconstruction term (None without an autoencoder)."""
    mask = x[:, :1]
    logits = out[0] if isinstance(out, tuple) else out
    loss = (Fn.binary_cross_entropy_with_logits(logits, y, pos_weight=pw, reduction="none") * mask).sum() / (mask.sum() * ds.C)
    if not isinstance(out, tuple):
        return loss, None
    normal = mask[:, 0] * (y.sum(dim=1) == 0)
    r = (recon_error(x, out[1]) * normal).sum() / normal.sum().clamp(min=1)
    return loss + recon_weight * r, r


# ------------------------------------------------------------------------------------------------
# CSAR-2


def train_ae(ds, epochs, budget, seed, lr=3e-3):
    torch.manual_seed(seed)
    F = ds.F
    model = CSAR2(F)
    clean = [i for i, s in enumerate(ds.sessions) if s["clean"]]
    rng = np.random.default_rng(seed)
    lengths = np.array([ds.sessions[i]["T"] for i in clean])
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * len(make_batches(lengths, budget, None))
    step = 0
    for ep in range(epochs):
        t = time.time()
        tot, n = 0.0, 0
        for b in make_batches(lengths, budget, rng):
            idx = [clean[k] for k in b]
            x = batch_x(ds, idx)
            mask = x[:, 0]
            _, recon = model(x)
            loss = (recon_error(x, recon) * mask).sum() / mask.sum()
            optimise(opt, loss, model.parameters(), lr, step, steps)
            step += 1
            tot += loss.item()
            n += 1
        log(f"CSAR-2 epoch {ep + 1}/{epochs} loss {tot / n:.5f} ({time.time() - t:.0f} s)")
    return model.eval()


@torch.no_grad()
def ae_report(model, ds, budget):
    """Bucket error on clean vs anomalous buckets, and how well the peak error separates sessions."""
    idx = list(range(len(ds.sessions)))
    lengths = np.array([s["T"] for s in ds.sessions])
    errs_clean, errs_anom, sess_score, sess_label = [], [], [], []
    for b in make_batches(lengths, budget, None):
        ids = [idx[k] for k in b]
        x = batch_x(ds, ids)
        _, recon = model(x)
        e = recon_error(x, recon).numpy()
        for k, i in enumerate(ids):
            T = ds.sessions[i]["T"]
            y = ds.y(i).any(axis=0)
            ei = e[k, :T]
            errs_clean.append(ei[~y])
            errs_anom.append(ei[y])
            sess_score.append(float(ei.max()))
            sess_label.append(0 if ds.sessions[i]["clean"] else 1)
    ec = np.concatenate(errs_clean)
    ea = np.concatenate(errs_anom) if errs_anom else np.zeros(1)
    return {
        "bucketErrorCleanMedian": float(np.median(ec)),
        "bucketErrorCleanP99": float(np.quantile(ec, 0.99)),
        "bucketErrorAnomalousMedian": float(np.median(ea)),
        "bucketAuroc": auroc(np.concatenate([ec, ea]), np.concatenate([np.zeros(len(ec)), np.ones(len(ea))])),
        "sessionAuroc": auroc(np.array(sess_score), np.array(sess_label)),
    }


# ------------------------------------------------------------------------------------------------
# CSAR-C-2


def pos_weights(ds):
    pos = np.zeros(ds.C)
    tot = 0
    for i in range(len(ds.sessions)):
        y = ds.y(i)
        pos += y.sum(axis=1)
        tot += y.shape[1]
    w = np.sqrt((tot - pos) / np.maximum(pos, 1))
    return torch.tensor(np.clip(w, 1, 30), dtype=torch.float32)


def train_classifier(model, ds, epochs, budget, seed, lr=3e-3, name="CSAR-C-2", recon_weight=1.0):
    """BCE on every bucket; for the shared variant also the reconstruction loss of its autoencoder
    on buckets without any anomaly (so that its error stays anomaly evidence)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    lengths = np.array([s["T"] for s in ds.sessions])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    pw = pos_weights(ds)[None, :, None]
    steps = epochs * len(make_batches(lengths, budget, None))
    step = 0
    for ep in range(epochs):
        t = time.time()
        model.train()
        tot, rec, n = 0.0, 0.0, 0
        for b in make_batches(lengths, budget, rng):
            x = batch_x(ds, b)
            loss, r = classifier_loss(ds, x, batch_y(ds, b), model(x), pw, recon_weight)
            if r is not None:
                rec += r.item()
            optimise(opt, loss, params, lr, step, steps)
            step += 1
            tot += loss.item()
            n += 1
        log(f"{name} epoch {ep + 1}/{epochs} loss {tot / n:.5f} (reconstruction {rec / n:.5f}) ({time.time() - t:.0f} s)")
    return model.eval()


@torch.no_grad()
def predict_probs(model, ds, budget):
    lengths = np.array([s["T"] for s in ds.sessions])
    out = [None] * len(ds.sessions)
    for b in make_batches(lengths, budget, None):
        x = batch_x(ds, b)
        o = model(x)
        p = torch.sigmoid(o[0] if isinstance(o, tuple) else o).numpy()
        for k, i in enumerate(b):
            out[i] = p[k, :, :ds.sessions[i]["T"]]
    return out


def classifier_report(probs, ds, cats):
    """Bucket-level F1 at 0.5 and session-level F1 (category present = some bucket ≥ 0.5)."""
    C = len(cats)
    tp = np.zeros(C); fp = np.zeros(C); fn = np.zeros(C)
    stp = np.zeros(C); sfp = np.zeros(C); sfn = np.zeros(C)
    for i, p in enumerate(probs):
        y = ds.y(i).astype(bool)
        h = p >= 0.5
        tp += (h & y).sum(axis=1); fp += (h & ~y).sum(axis=1); fn += (~h & y).sum(axis=1)
        hs = h.any(axis=1); ys = y.any(axis=1)
        stp += hs & ys; sfp += hs & ~ys; sfn += ~hs & ys
    f1 = lambda a, b, c: 2 * a / np.maximum(2 * a + b + c, 1)  # noqa: E731
    bf, sf = f1(tp, fp, fn), f1(stp, sfp, sfn)
    return {
        "bucketF1": {c: round(float(v), 4) for c, v in zip(cats, bf)},
        "bucketMacroF1": round(float(bf.mean()), 4),
        "sessionF1": {c: round(float(v), 4) for c, v in zip(cats, sf)},
        "sessionMacroF1": round(float(sf.mean()), 4),
    }


# ------------------------------------------------------------------------------------------------
# SORC


def sorc_sessions(ds):
    return [i for i, s in enumerate(ds.sessions) if s["sorcOffset"] >= 0]


def train_sorc(ds, epochs, budget, seed, lr=3e-3):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    ids = sorc_sessions(ds)
    model = SORC(ds.F, ds.manifest["sorcInputChannels"])
    lengths = np.array([ds.sessions[i]["T"] for i in ids])
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * len(make_batches(lengths, budget, None))
    step = 0
    for ep in range(epochs):
        t = time.time()
        tot, n = 0.0, 0
        for b in make_batches(lengths, budget, rng):
            idx = [ids[k] for k in b]
            x = collate([ds.x_sorc(i) for i in idx])
            target = collate([ds.soc_target(i)[None] for i in idx], pad_value=np.nan)[:, 0]
            known = ~torch.isnan(target)
            soc, sigma = model(x)
            tgt = torch.nan_to_num(target)
            nll = torch.log(sigma) + 0.5 * ((soc - tgt) / sigma) ** 2
            loss = (nll * known).sum() / known.sum().clamp(min=1)
            optimise(opt, loss, model.parameters(), lr, step, steps)
            step += 1
            tot += loss.item()
            n += 1
        log(f"SORC epoch {ep + 1}/{epochs} nll {tot / n:.4f} ({time.time() - t:.0f} s)")
    return model.eval()


@torch.no_grad()
def sorc_report(model, ds, budget):
    ids = sorc_sessions(ds)
    lengths = np.array([ds.sessions[i]["T"] for i in ids])
    errs, conf, hit = [], [], []
    for b in make_batches(lengths, budget, None):
        idx = [ids[k] for k in b]
        x = collate([ds.x_sorc(i) for i in idx])
        soc, sigma = model(x)
        for k, i in enumerate(idx):
            T = ds.sessions[i]["T"]
            tgt = ds.soc_target(i)
            m = ~np.isnan(tgt)
            e = np.abs(soc[k, :T].numpy() - tgt)[m]
            s = sigma[k, :T].numpy()[m]
            errs.append(e)
            # Confidence = P(|error| ≤ 10 points) under the predicted Gaussian.
            conf.append(np.array([math.erf(10 / (v * math.sqrt(2))) for v in s]))
            hit.append(e <= 10)
    e = np.concatenate(errs); c = np.concatenate(conf); h = np.concatenate(hit)
    return {
        "sessions": len(ids),
        "maePoints": round(float(e.mean()), 3),
        "medianAbsErrorPoints": round(float(np.median(e)), 3),
        "within10Points": round(float(h.mean()), 4),
        "meanConfidence": round(float(c.mean()), 4),
        "confidenceEce": round(ece(c, h), 4),
    }


def ece(conf, correct, bins=10):
    edges = np.linspace(0, 1, bins + 1)
    tot = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        m = (conf >= a) & ((conf < b) | (b == 1))
        if m.any():
            tot += m.sum() * abs(conf[m].mean() - correct[m].mean())
    return float(tot / max(1, len(conf)))


# ------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ae-epochs", type=int, default=6)
    ap.add_argument("--clf-epochs", type=int, default=8)
    ap.add_argument("--sorc-epochs", type=int, default=10)
    ap.add_argument("--budget", type=int, default=24000, help="padded buckets per batch")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--variants", default="shared,separate")
    ap.add_argument("--fixtures", type=int, default=4)
    a = ap.parse_args()
    t_start = time.time()
    os.makedirs(a.out, exist_ok=True)
    train, val = Dataset(a.train), Dataset(a.val)
    cats = train.manifest["categories"]
    assert train.manifest["featureVersion"] == val.manifest["featureVersion"]
    # The held-out slices of the simulator (vehicles, a sampling regime, a behaviour family) are for
    # the evaluation only: training and validation must come from `--holdout exclude` exports.
    for name, ds in (("training", train), ("validation", val)):
        h = ds.manifest["corpus"].get("holdout")
        if h != "exclude":
            raise SystemExit(f"{name} corpus {ds.manifest['corpus']['seed']} was exported with holdout={h!r}: "
                             "re-export it with --holdout exclude (models/training/export-dataset.ts)")
    log(f"train {len(train.sessions)} sessions / {train.manifest['totalBuckets']} buckets; val {len(val.sessions)}")
    timing = {}

    variants = {}
    for v in a.variants.split(","):
        t = time.time()
        model = CSARC2Shared(train.F, train.C) if v == "shared" else CSARC2Separate(train.F, train.C)
        model = train_classifier(model, train, a.clf_epochs, a.budget, a.seed + 1, name=f"CSAR-C-2 ({v})")
        rep = classifier_report(predict_probs(model, val, a.budget), val, cats)
        rep["trainSeconds"] = round(time.time() - t, 1)
        rep["parameters"] = sum(p.numel() for p in model.parameters())
        rep["servingMsSixHours"] = onnx_export.variant_latency(os.path.join(a.out, ".probe"), model, v, train.F)
        variants[v] = (model, rep)
        log(f"CSAR-C-2 ({v}) validation", rep)
        timing[f"csarc2-{v}"] = time.time() - t
    # The separate encoder must be clearly more accurate to pay for a second network at serving
    # (the shared graph gives categories and reconstruction error in one encoder pass).
    quality = lambda v: variants[v][1]["sessionMacroF1"] + variants[v][1]["bucketMacroF1"]  # noqa: E731
    chosen = "shared" if "shared" in variants else next(iter(variants))
    if "separate" in variants and "shared" in variants and quality("separate") > quality("shared") + SEPARATE_MARGIN:
        chosen = "separate"
    log(f"CSAR-C-2: keeping the {chosen} variant")

    t = time.time()
    if chosen == "shared":
        ae = variants["shared"][0].ae
    else:
        ae = train_ae(train, a.ae_epochs, a.budget, a.seed)
    timing["csar2"] = time.time() - t
    ae_metrics = ae_report(ae, val, a.budget)
    log("CSAR-2 validation", ae_metrics)

    t = time.time()
    sorc = train_sorc(train, a.sorc_epochs, a.budget, a.seed + 2)
    timing["sorc"] = time.time() - t
    sorc_metrics = sorc_report(sorc, val, a.budget)
    log("SORC validation", sorc_metrics)

    t = time.time()
    arts = onnx_export.export_all(a.out, ae, variants[chosen][0], chosen, sorc, train.F, train.C)
    onnx_export.write_reference(a.out, val, ae, variants[chosen][0], sorc, a.fixtures)
    timing["export"] = time.time() - t

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    corpus = lambda ds: {  # noqa: E731
        "seed": ds.manifest["corpus"]["seed"], "sessions": len(ds.sessions), "buckets": ds.manifest["totalBuckets"],
        "anomalyRate": ds.manifest["corpus"]["anomalyRate"], "holdout": ds.manifest["corpus"]["holdout"],
        "generator": ds.manifest["corpus"]["generator"],
    }
    common = {
        "featureVersion": train.manifest["featureVersion"], "featureCount": train.F,
        "trainingCorpus": corpus(train), "validationCorpus": corpus(val), "trainedAt": now,
        "framework": f"torch {torch.__version__}, 1 thread", "opset": onnx_export.OPSET,
    }
    cards = {
        "csar-2": {
            "id": "model-csar2-base", "name": "CSAR-2 Base", "type": "csar_2", "version": "2.0.0",
            "description": "Sequence autoencoder over the bucketed features"
            + (", its encoder shared with CSAR-C-2 and trained jointly (reconstruction loss on anomaly-free buckets only)" if chosen == "shared" else ", trained on clean sessions")
            + "; per-bucket reconstruction error is anomaly evidence, its peak the session score.",
            "artifact": arts["csar-2"], **common,
            "inputs": [{"name": "features", "shape": ["N", str(train.F), "T"], "dtype": "float32"}],
            "outputs": [{"name": "reconstruction", "shape": ["N", str(train.F), "T"]}, {"name": "error", "shape": ["N", "T"]}],
            "parameters": sum(p.numel() for p in ae.parameters()),
            "trainedWith": "jointly with CSAR-C-2 (shared encoder)" if chosen == "shared" else "alone, on clean sessions",
            "trainSeconds": round(timing["csar2"] + (timing["csarc2-shared"] if chosen == "shared" else 0), 1),
            "metrics": {"validation": ae_metrics},
        },
        "csar-c-2": {
            "id": "model-csar-c2-base", "name": "CSAR-C-2 Base", "type": "csar_c_2", "version": "2.0.0",
            "description": f"Per-bucket multi-label classifier of the seven categories ({chosen} encoder, chosen on validation).",
            "artifact": arts["csar-c-2"], **common,
            "encoder": chosen,
            "inputs": [{"name": "features", "shape": ["N", str(train.F), "T"], "dtype": "float32"}],
            "outputs": [{"name": "probs", "shape": ["N", str(train.C), "T"], "categories": cats}]
            + ([{"name": "error", "shape": ["N", "T"]}] if chosen == "shared" else []),
            "parameters": sum(p.numel() for p in variants[chosen][0].parameters()),
            "trainSeconds": round(timing[f"csarc2-{chosen}"], 1),
            "variantComparison": {v: r for v, (_, r) in variants.items()},
            "variantRule": f"separate only if validation session+bucket macro-F1 beats shared by > {SEPARATE_MARGIN}",
            "metrics": {"validation": variants[chosen][1]},
        },
        "sorc": {
            "id": "model-sorc-base", "name": "SORC Base", "type": "sorc", "version": "2.0.0",
            "description": "SoC reconstruction for sessions without SoC: per-bucket SoC (%) and standard deviation; confidence = P(|error| ≤ 10 points).",
            "artifact": arts["sorc"], **common,
            "inputs": [{"name": "features", "shape": ["N", str(train.F), "T"], "dtype": "float32", "note": "SoC channels are not read"}],
            "outputs": [{"name": "soc", "shape": ["N", "T"]}, {"name": "sigma", "shape": ["N", "T"]}],
            "parameters": sum(p.numel() for p in sorc.parameters()),
            "trainSeconds": round(timing["sorc"], 1),
            "metrics": {"validation": sorc_metrics},
        },
    }
    import shutil
    shutil.rmtree(os.path.join(a.out, ".probe"), ignore_errors=True)
    for name, card in cards.items():
        path = os.path.join(a.out, f"{name}.card.json")
        # evaluate.ts adds held-out metrics under metrics.heldOut: keep them if this is a re-export.
        with open(path, "w") as f:
            json.dump(card, f, indent=2)
            f.write("\n")
    log(f"done in {time.time() - t_start:.0f} s", {k: round(v) for k, v in timing.items()})


if __name__ == "__main__":
    main()

"""SHADE-1: a conditional autoencoder with a fault head over the daily profile of a station (models/serving/shade/profile.ts).

The encoder reads the whole profile with the context; the decoder rebuilds the observed channels
from the bottleneck, the context and the baseline's expectation. Its reconstruction loss counts on
clean station-days only, so the per-slot error is high where a day departs from what the station's
history and the day's own shape make normal. A fault head, trained at the same time on the
simulator's fault labels, reads the same profile (with the rules' finding channels) and gives a
fault probability per quarter-hour and per day. Errors and probabilities are computed inside the
ONNX graph (outputs `slot_prob`, `day_prob`, `slot_error`, `day_error`); the error's calibration
(quantiles on clean validation days) goes into the card, where models/serving/shade/model.ts reads
it; shade-1.reference.json lets test/unit/shade-model.test.ts check profile and runtime parity.

Usage: python train_shade.py --train models/datasets/shade-train --val models/datasets/shade-val
                             --out models/artifacts [--epochs 30]
PyTorch on ONE thread (the machine is shared); a few minutes at most.
"""
import argparse
import datetime
import json
import os
import sys
import time
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn

# The AUROC the session models' training reports with (ties share their rank).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from auroc import auroc  # noqa: E402

torch.set_num_threads(1)
OPSET = 17
SEED = 17
OUTPUTS = ["slot_prob", "day_prob", "slot_error", "day_error"]


def load(root):
    with open(os.path.join(root, "manifest.json")) as f:
        m = json.load(f)
    n, c, s, k = m["days"], m["channels"], m["slots"], m["contextSize"]
    x = np.fromfile(os.path.join(root, "profiles.f32"), dtype="<f4").reshape(n, c, s)
    ctx = np.fromfile(os.path.join(root, "context.f32"), dtype="<f4").reshape(n, k)
    slots = np.fromfile(os.path.join(root, "slots.u8"), dtype=np.uint8).reshape(n, s)
    clean = np.array([d["clean"] for d in m["meta"]], dtype=bool)
    return m, x, ctx, slots, clean


class ShadeAE(nn.Module):
    def __init__(self, channels, slots, context, observed, cond, hidden=128, bottleneck=24):
        super().__init__()
        self.observed = list(observed)
        # The decoder is conditioned on the baseline's expectation (channels 1, 2) and the context.
        self.cond = list(cond)
        self.slots = slots
        n_in = channels * slots + context
        n_cond = len(self.cond) * slots + context
        self.encoder = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, bottleneck))
        self.decoder = nn.Sequential(
            nn.Linear(bottleneck + n_cond, hidden), nn.ReLU(), nn.Linear(hidden, len(self.observed) * slots)
        )
        # Fault head: per-slot logits from the whole profile (a fault shows against the rest of the day).
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(n_in, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, slots + 1))
        self.register_buffer("obs_idx", torch.tensor(self.observed, dtype=torch.long))
        self.register_buffer("cond_idx", torch.tensor(self.cond, dtype=torch.long))

    def forward(self, profile, context):
        n = profile.shape[0]
        flat = torch.cat([profile.reshape(n, -1), context], dim=1)
        z = self.encoder(flat)
        cond = torch.index_select(profile, 1, self.cond_idx).reshape(n, -1)
        recon = self.decoder(torch.cat([z, cond, context], dim=1)).reshape(n, len(self.observed), self.slots)
        logits = self.head(flat)
        return recon, logits[:, : self.slots], logits[:, self.slots]


class Graph(nn.Module):
    """What serves: per-slot error and the day's error (mean of its 8 worst slots). Each channel's
    squared error is divided by that channel's mean squared error on clean training days, so that
    the rare-event channels (dead plug-ins, energy outside sessions, register-vs-power mismatch)
    count as much as the naturally noisy ones (when sessions start); the slot's error is the largest
    of its channels' standardised errors."""

    def __init__(self, ae, inv_var):
        super().__init__()
        self.ae = ae
        self.register_buffer("inv_var", inv_var.reshape(1, -1, 1))

    def forward(self, profile, context):
        recon, slot_logits, day_logit = self.ae(profile, context)
        target = torch.index_select(profile, 1, self.ae.obs_idx)
        slot_error, _ = (((target - recon) ** 2) * self.inv_var).max(dim=1)
        top, _ = torch.topk(slot_error, 8, dim=1)
        return torch.sigmoid(slot_logits), torch.sigmoid(day_logit), slot_error, top.mean(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    a = ap.parse_args()
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    started = time.time()

    mt, xt, ct, st, cleant = load(a.train)
    mv, xv, cv, sv, cleanv = load(a.val)
    C, S, K = mt["channels"], mt["slots"], mt["contextSize"]
    observed = mt["observed"]
    ae = ShadeAE(C, S, K, observed, mt["conditioning"])
    opt = torch.optim.Adam(ae.parameters(), lr=2e-3, weight_decay=1e-4)
    Xt = torch.from_numpy(xt)
    Ct = torch.from_numpy(ct)
    Yt = torch.from_numpy(st.astype(np.float32))
    Dt = torch.from_numpy((~cleant).astype(np.float32))
    Mt = torch.from_numpy(cleant.astype(np.float32))
    obs = torch.tensor(observed)
    bce = nn.BCEWithLogitsLoss()
    batch = 64
    for epoch in range(a.epochs):
        ae.train()
        perm = rng.permutation(len(Xt))
        total = 0.0
        for i in range(0, len(perm), batch):
            idx = torch.from_numpy(perm[i : i + batch])
            x, c = Xt[idx], Ct[idx]
            # Denoising: the encoder sees a slightly perturbed profile, the loss asks for the clean one.
            noisy = x + 0.02 * torch.randn_like(x)
            recon, slot_logits, day_logit = ae(noisy, c)
            # Reconstruction on clean days only: the autoencoder learns what normal looks like.
            per_day = ((recon - x[:, obs]) ** 2).mean(dim=(1, 2))
            rec = (per_day * Mt[idx]).sum() / Mt[idx].sum().clamp_min(1)
            loss = rec + bce(slot_logits, Yt[idx]) + bce(day_logit, Dt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        if epoch % 5 == 4 or epoch == a.epochs - 1:
            print(f"epoch {epoch + 1}: train loss {total / len(perm):.5f}", flush=True)
    train_seconds = time.time() - started

    ae.eval()
    Xc, Cc = Xt[torch.from_numpy(cleant)], Ct[torch.from_numpy(cleant)]
    with torch.no_grad():
        res = torch.cat([((ae(Xc[i : i + 512], Cc[i : i + 512])[0] - Xc[i : i + 512][:, obs]) ** 2) for i in range(0, len(Xc), 512)])
    # Floor: a channel that is always reconstructed exactly (no event in training) must not divide by ~0.
    var = res.mean(dim=(0, 2)).clamp_min(1e-4)
    graph = Graph(ae, 1.0 / var)
    graph.eval()
    with torch.no_grad():
        prob_v, dprob_v, slot_v, day_v = [t.numpy() for t in graph(torch.from_numpy(xv), torch.from_numpy(cv))]
    clean_slots = slot_v[cleanv].ravel()
    clean_days = day_v[cleanv]
    q = lambda xs, p: float(np.quantile(xs, p))
    calibration = {
        "slot": {"q50": q(clean_slots, 0.5), "q99": q(clean_slots, 0.99), "q999": q(clean_slots, 0.999)},
        "day": {"q50": q(clean_days, 0.5), "q99": q(clean_days, 0.99), "q999": q(clean_days, 0.999)},
        "note": "score = 0 at q50, 0.5 at q99, 0.8 at q999, 1 at 10 × q999, linear in log(error) between (models/serving/shade/model.ts)",
    }
    metrics = {
        "channelMse": [round(float(v), 6) for v in var],
        "validation": {
            "days": int(len(day_v)),
            "cleanDays": int(cleanv.sum()),
            "dayAurocClassifier": auroc(dprob_v, ~cleanv),
            "slotAurocClassifier": auroc(prob_v.ravel(), sv.ravel() > 0),
            "dayAurocReconstruction": auroc(day_v, ~cleanv),
            "slotAurocReconstruction": auroc(slot_v.ravel(), sv.ravel() > 0),
            "cleanDayErrorMedian": calibration["day"]["q50"],
            "cleanDayErrorP99": calibration["day"]["q99"],
        }
    }
    print(json.dumps(metrics))

    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "shade-1.onnx")
    p0 = torch.zeros(2, C, S)
    c0 = torch.zeros(2, K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph, (p0, c0), path, input_names=["profile", "context"], output_names=OUTPUTS,
            dynamic_axes={"profile": {0: "N"}, "context": {0: "N"}, **{o: {0: "N"} for o in OUTPUTS}},
            opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"profile": xv[:50], "context": cv[:50]})
    # Relative to the value: the standardised errors run into the hundreds.
    worst = max(float((np.abs(g - r[:50]) / np.maximum(1.0, np.abs(r[:50]))).max()) for g, r in zip(got, (prob_v, dprob_v, slot_v, day_v)))
    assert worst < 1e-4, f"onnxruntime differs from PyTorch by {worst} (relative)"

    # Reference outputs for test/unit/shade-model.test.ts: the first validation station's first days,
    # which the test re-simulates and re-profiles in TypeScript (profile drift between training and
    # serving fails it) and scores with onnxruntime-node (runtime drift fails it).
    ref_n = 4
    reference = {
        "set": mv["options"],
        "days": [{"station": d["station"], "day": d["day"]} for d in mv["meta"][:ref_n]],
        "profile": [np.round(xv[i].astype(np.float64), 6).tolist() for i in range(ref_n)],
        "context": [np.round(cv[i].astype(np.float64), 6).tolist() for i in range(ref_n)],
        "outputs": {name: [np.asarray(arr[i], dtype=np.float64).tolist() for i in range(ref_n)] for name, arr in zip(OUTPUTS, (prob_v, dprob_v, slot_v, day_v))},
    }
    with open(os.path.join(a.out, "shade-1.reference.json"), "w") as f:
        json.dump(reference, f)
        f.write("\n")

    card = {
        "id": "model-shade-1",
        "name": "SHADE-1 daily-profile model",
        "type": "shade",
        "version": "1.0.0",
        "description": "One network over a station-day's profile (96 quarter-hours × 15 channels: energy, sessions, dead plug-ins, energy outside sessions, register-vs-power mismatch, cumulative energy against the baseline, the rules' finding scores; the baseline's expectation as condition) with two outputs trained together on simulated station-days: a conditional autoencoder (reconstruction on clean days; per-slot error standardised per channel, calibrated on clean validation days) and a fault head (per quarter-hour and per day fault probability). Serving (models/serving/shade/) averages the two into the day and minute scores; the robust-baseline rules (models/serving/shade/rules.ts) decide the findings.",
        "artifact": {"file": "shade-1.onnx", "bytes": os.path.getsize(path), "opset": OPSET, "maxRelDiffVsTorch": worst},
        "profileVersion": mt["profileVersion"],
        "featureVersion": mt["profileVersion"],
        "trainingCorpus": {**mt["options"], "days": int(len(cleant)), "cleanDaysUsed": int(cleant.sum()), "generator": "models/training/shade/simulate.ts"},
        "validationCorpus": {**mv["options"], "days": int(len(cleanv))},
        "trainedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "framework": f"torch {torch.__version__}, 1 thread",
        "opset": OPSET,
        "inputs": [
            {"name": "profile", "shape": ["N", str(C), str(S)], "dtype": "float32"},
            {"name": "context", "shape": ["N", str(K)], "dtype": "float32"},
        ],
        "outputs": [
            {"name": "slot_prob", "shape": ["N", str(S)]},
            {"name": "day_prob", "shape": ["N"]},
            {"name": "slot_error", "shape": ["N", str(S)]},
            {"name": "day_error", "shape": ["N"]},
        ],
        "parameters": int(sum(p.numel() for p in ae.parameters())),
        "epochs": a.epochs,
        "trainSeconds": round(train_seconds, 1),
        "calibration": calibration,
        "metrics": metrics,
    }
    with open(os.path.join(a.out, "shade-1.card.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({card['parameters']} parameters, {train_seconds:.0f} s)")


if __name__ == "__main__":
    main()

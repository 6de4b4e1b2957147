"""Reads the tensors that models/training/export-dataset.ts wrote (the TypeScript feature extraction is the
only one: nothing here computes a feature) and cuts them into length-bucketed, padded batches."""
import json
import os

import numpy as np
import torch


class Dataset:
    """One exported corpus: per-session feature matrices [F, T], labels [C, T], SoC targets [T]."""

    def __init__(self, root: str):
        with open(os.path.join(root, "manifest.json")) as f:
            self.manifest = json.load(f)
        m = self.manifest
        self.F = m["featureCount"]
        self.C = len(m["categories"])
        self.sessions = m["sessions"]
        total = m["totalBuckets"]
        # Concatenated channel-major blocks; float32/uint8 little-endian as written by Node.
        self.features = np.fromfile(os.path.join(root, "features.f32"), dtype="<f4", count=total * self.F)
        self.labels = np.fromfile(os.path.join(root, "labels.u8"), dtype=np.uint8, count=total * self.C)
        self.soc = np.fromfile(os.path.join(root, "soc.f32"), dtype="<f4", count=total)
        self.sorc = np.fromfile(os.path.join(root, "sorc.f32"), dtype="<f4", count=m["totalSorcBuckets"] * self.F)

    def x(self, i: int) -> np.ndarray:
        s = self.sessions[i]
        return self.features[s["offset"] * self.F:(s["offset"] + s["T"]) * self.F].reshape(self.F, s["T"])

    def y(self, i: int) -> np.ndarray:
        s = self.sessions[i]
        return self.labels[s["offset"] * self.C:(s["offset"] + s["T"]) * self.C].reshape(self.C, s["T"])

    def soc_target(self, i: int) -> np.ndarray:
        s = self.sessions[i]
        return self.soc[s["offset"]:s["offset"] + s["T"]]

    def x_sorc(self, i: int) -> np.ndarray:
        s = self.sessions[i]
        o = s["sorcOffset"]
        return self.sorc[o * self.F:(o + s["T"]) * self.F].reshape(self.F, s["T"])


def make_batches(lengths, budget: int, rng: np.random.Generator | None):
    """Sessions of similar length together (little padding), at most `budget` padded buckets each."""
    order = np.argsort(lengths, kind="stable")
    batches, cur, cur_max = [], [], 0
    for i in order:
        t = int(lengths[i])
        if cur and max(cur_max, t) * (len(cur) + 1) > budget:
            batches.append(cur)
            cur, cur_max = [], 0
        cur.append(int(i))
        cur_max = max(cur_max, t)
    if cur:
        batches.append(cur)
    if rng is not None:
        rng.shuffle(batches)
    return batches


def collate(arrays, pad_value=0.0, dtype=np.float32):
    """[n, K, T_i] → [n, K, T_max], zero padded (the 'valid' channel then marks real buckets)."""
    tmax = max(a.shape[-1] for a in arrays)
    out = np.full((len(arrays),) + arrays[0].shape[:-1] + (tmax,), pad_value, dtype=dtype)
    for k, a in enumerate(arrays):
        out[k, ..., :a.shape[-1]] = a
    return torch.from_numpy(out)

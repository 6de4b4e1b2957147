"""AUROC for the training reports of the session models (train.py) and SHADE (train_shade.py)."""
import numpy as np


def auroc(score, label):
    """Mann-Whitney AUROC with tied scores sharing their average rank; NaN without both classes."""
    score = np.asarray(score, dtype=np.float64)
    pos = np.asarray(label) == 1
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    n1, n0 = pos.sum(), (~pos).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))

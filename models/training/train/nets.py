"""The three networks. All are fully convolutional over the bucket axis (any T ≤ 1440, one ONNX
graph for every session length) and non-causal: a bucket's verdict may depend on what follows it,
as the contract's rules do (a dip is a pit only if it recovers within 2 min).

Hidden activations are multiplied by the input's `valid` channel (0 on training padding, 1 on every
real bucket): a padded training batch then computes exactly what the served, unpadded session does
(zero padding at every layer), so training and serving see the same function at the window's end.
"""
import torch
import torch.nn as nn
import torch.nn.functional as Fn


class Block(nn.Module):
    """Residual dilated conv: receptive field grows exponentially, cost linearly with depth."""

    def __init__(self, c: int, dilation: int, k: int = 3):
        super().__init__()
        self.conv = nn.Conv1d(c, c, k, padding=dilation * (k - 1) // 2, dilation=dilation)

    def forward(self, h, mask):
        return (h + Fn.relu(self.conv(h))) * mask


class Stack(nn.Module):
    """1×1 projection to `c` channels, then residual dilated blocks."""

    def __init__(self, cin: int, c: int, dilations):
        super().__init__()
        self.inp = nn.Conv1d(cin, c, 1)
        self.blocks = nn.ModuleList(Block(c, d) for d in dilations)

    def forward(self, x, mask):
        h = Fn.relu(self.inp(x)) * mask
        for b in self.blocks:
            h = b(h, mask)
        return h


# Sizes are set by the latency budget (≤ 2 ms for a 6-hour session on one core, features and
# decoding included): every conv runs at full 15-s resolution, ~18 k multiply-adds per bucket for
# the shared CSAR-2 + CSAR-C-2 graph. The engineered features carry the long-range context (dip
# durations, idle-stretch lengths), so ±63 buckets (≈ 16 min) of receptive field suffice.
WIDTH = 24
ENCODER_DILATIONS = (1, 2, 4, 8, 16, 32)  # ±63 buckets each side
HEAD_DILATIONS = (1, 2)


class CSAR2(nn.Module):
    """Sequence autoencoder: encoder → 4-channel bottleneck per bucket → decoder → features.
    Its reconstruction loss is taken on buckets without any anomaly only, so what normal charging
    never shows (a register below its maximum, energy power cannot explain, …) reconstructs badly:
    the per-bucket error is anomaly evidence, its peak over the window the session score."""

    def __init__(self, F: int, c: int = WIDTH, z: int = 4, cd: int = 16):
        super().__init__()
        self.encoder = Stack(F, c, ENCODER_DILATIONS)
        self.bottleneck = nn.Conv1d(c, z, 1)
        self.decoder = Stack(z, cd, (1, 2))
        self.out = nn.Conv1d(cd, F, 1)

    def forward(self, x):
        mask = x[:, :1]
        h = self.encoder(x, mask)
        z = torch.tanh(self.bottleneck(h)) * mask
        recon = self.out(self.decoder(z, mask)) * mask
        return h, recon


def recon_error(x, recon):
    """Per-bucket mean squared reconstruction error [B, T]."""
    return ((x - recon) ** 2).mean(dim=1)


class Head(nn.Module):
    """Per-bucket multi-label category logits."""

    def __init__(self, cin: int, c: int, n_out: int, dilations=HEAD_DILATIONS):
        super().__init__()
        self.stack = Stack(cin, c, dilations)
        self.out = nn.Conv1d(c, n_out, 1)

    def forward(self, x, mask):
        return self.out(self.stack(x, mask))


class CSARC2Shared(nn.Module):
    """CSAR-C-2 on CSAR-2's encoder, both trained together (category loss on every bucket,
    reconstruction loss on anomaly-free buckets). The head reads the encoder's state and the
    per-channel reconstruction residual (which features normal charging cannot explain). One graph
    gives the categories and the autoencoder's error: a single encoder pass at serving."""

    def __init__(self, F: int, C: int, c: int = WIDTH):
        super().__init__()
        self.ae = CSAR2(F, c)
        self.head = Head(c + F, c, C)

    def forward(self, x):
        mask = x[:, :1]
        h, recon = self.ae(x)
        logits = self.head(torch.cat([h, x - recon], dim=1), mask)
        return logits, recon


class CSARC2Separate(nn.Module):
    """The same classifier with its own encoder, trained on the categories alone (CSAR-2 is then
    a second network, trained on clean sessions, and a second graph to run)."""

    def __init__(self, F: int, C: int, c: int = WIDTH):
        super().__init__()
        self.encoder = Stack(F, c, ENCODER_DILATIONS)
        self.head = Head(c + F, c, C)

    def forward(self, x):
        mask = x[:, :1]
        h = self.encoder(x, mask)
        return self.head(torch.cat([h, x], dim=1), mask)


SOC_MIN_SIGMA = 0.5


class SORC(nn.Module):
    """SoC reconstruction from energy/power alone: per bucket a SoC (%) and its standard deviation
    (Gaussian NLL), on a longer receptive field (SoC integrates the whole session)."""

    def __init__(self, F: int, channels, c: int = 16):
        super().__init__()
        self.register_buffer("channels", torch.tensor(channels, dtype=torch.long))
        self.stack = Stack(len(channels), c, (1, 2, 4, 8, 16, 32, 64, 128))
        self.out = nn.Conv1d(c, 2, 1)
        # Start wide (σ ≈ 25 points): a narrow initial σ makes the first NLL gradients explode.
        with torch.no_grad():
            self.out.bias[1] = 25.0

    def forward(self, x):
        mask = x[:, :1]
        # Only the channels that do not depend on SoC: a SoC session with SoC hidden and a session
        # without SoC look the same.
        xs = torch.index_select(x, 1, self.channels)
        o = self.out(self.stack(xs, mask))
        soc = 100.0 * torch.sigmoid(o[:, 0])
        sigma = SOC_MIN_SIGMA + Fn.softplus(o[:, 1])
        return soc, sigma

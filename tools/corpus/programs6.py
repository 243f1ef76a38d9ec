"""corpus6: a third HELD-OUT set of real training programs, written without reading babysit's rules.

Written from issue #10's fault kinds, docs/api.md's alert list and the Python SDK's documentation
only, to differ from corpora 2-5 in what is trained, how, and how it is logged:

- data: synthetic 12x12 "shapes" images (square outlines, discs, crosses, bars), token sequences
  whose label is the most frequent symbol, a forecasting task (sum of sines plus AR noise: 24 past
  values -> the next 4), skewed count features (lognormal, 3 classes), make_hastie_10_2,
  make_gaussian_quantiles, a multi-output regression, sklearn digits as an autoencoding task and as
  2x2 patches;
- architectures: depthwise-separable convs, an autoencoder, dilated 1-D convs, a bidirectional GRU,
  a mixture of experts, highway layers, a ViT-like patch transformer, SiLU/Mish/softplus/softsign,
  weight norm, BatchNorm before ReLU;
- optimizers and schedules: Adamax, NAdam, RAdam, AdamW, SGD with gradient accumulation,
  ReduceLROnPlateau, ExponentialLR, CyclicLR, linear decay, warm restarts;
- logging: keys ``Loss/train``, ``loss``, ``metrics/val_loss``, ``acc`` in percent, ``epoch`` as a
  metric, ``val/top3``, ``val/f1``; the loss every step, as the mean of every 4 steps or once an
  epoch; evaluation once or twice an epoch; ``watch(every=N)`` on most runs, none on some; input,
  label and output statistics on some.

The training loop is this module's (the programs need optimizers, schedules, losses and logging
habits programs.py's loop does not have); the data helpers, label format and command line come from
programs.py. Labels (``CASES``) say what is TRUE about each program from its own printed numbers.

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs6.py C6-H-SHAPES-DWSEP 0
Its numbers without a server:  PROGRAMS6_TRACE=1 BABYSIT_MODE=disabled (same command)
Record them:   PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs6 --seeds 0,1
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets

import babysit
from programs import ALL_CODES, Data, _split, _standardise, label_of, main

torch.set_num_threads(1)
TRACE = os.environ.get("PROGRAMS6_TRACE") == "1"


# ---- data -------------------------------------------------------------------------------------

def shapes(seed, n=1600, size=12, noise=0.35):
    """4 classes of 12x12 images: square outline, filled disc, plus-shaped cross, a bar (either way)."""
    r = np.random.RandomState(seed)
    y = r.randint(0, 4, n)
    x = np.zeros((n, size, size), np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        s = r.randint(3, 6)
        cy, cx = r.randint(s, size - s), r.randint(s, size - s)
        if y[i] == 0:
            x[i, cy - s:cy + s, cx - s] = x[i, cy - s:cy + s, cx + s - 1] = 1
            x[i, cy - s, cx - s:cx + s] = x[i, cy + s - 1, cx - s:cx + s] = 1
        elif y[i] == 1:
            x[i][(yy - cy) ** 2 + (xx - cx) ** 2 <= s * s] = 1
        elif y[i] == 2:
            x[i, cy - s:cy + s, cx] = x[i, cy, cx - s:cx + s] = 1
        elif r.rand() < 0.5:
            x[i, cy - 1:cy + 1, cx - s:cx + s] = 1
        else:
            x[i, cy - s:cy + s, cx - 1:cx + 1] = 1
    x = x + noise * r.randn(n, size, size).astype(np.float32)
    xtr, xva, ytr, yva = _split(x[:, None], y, seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "synthetic 12x12 shapes (outline, disc, cross, bar) + noise, standardised", 4)


def token_counts(seed, n=1800, length=16, vocab=4):
    """Sequences of 16 one-hot tokens; the label is the symbol that occurs most often (never tied)."""
    r = np.random.RandomState(seed)
    y = r.randint(0, vocab, n)
    seq = r.randint(0, vocab, (n, length))
    for i in range(n):
        while True:
            c = np.bincount(seq[i], minlength=vocab)
            if c.argmax() == y[i] and (c == c.max()).sum() == 1:
                break
            seq[i, r.randint(length)] = y[i]
    x = np.eye(vocab, dtype=np.float32)[seq]
    xtr, xva, ytr, yva = _split(x, y, seed)
    return Data(xtr, ytr, xva, yva, "synthetic token sequences (16 of 4 symbols, one-hot): which symbol is most frequent", vocab)


def forecast(seed, n=1500, past=24, ahead=4, ordered=False):
    """Windows of a long series (two sines of drifting amplitude plus AR(1) noise): 24 values -> next 4."""
    r = np.random.RandomState(seed)
    T = n + past + ahead
    t = np.arange(T)
    e = np.zeros(T)
    for i in range(1, T):
        e[i] = 0.7 * e[i - 1] + 0.3 * r.randn()
    s = (1 + 0.5 * np.sin(t / 300.0)) * np.sin(2 * np.pi * t / 17.0) + 0.6 * np.sin(2 * np.pi * t / 41.0 + 1.0) + e
    s = (s - s.mean()) / s.std()
    x = np.stack([s[i:i + past] for i in range(n)]).astype(np.float32)
    y = np.stack([s[i + past:i + past + ahead] for i in range(n)]).astype(np.float32)
    if ordered:  # the last quarter of the series is the validation set (time order kept)
        k = int(0.75 * n)
        return Data(x[:k, None], y[:k], x[k:, None], y[k:], "synthetic series (2 sines + AR noise), 24 past -> 4 ahead, time split", None)
    xtr, xva, ytr, yva = _split(x[:, None], y, seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "synthetic series (2 sines + AR noise), 24 past -> 4 ahead", None)


def counts(seed, n=1500, raw=False):
    """Skewed count-like features (lognormal, 12 columns, ranges up to thousands), 3 classes."""
    r = np.random.RandomState(seed)
    y = r.randint(0, 3, n)
    centres = r.randn(3, 12) * 0.6
    scale = np.exp(r.uniform(1, 6, 12))
    x = (np.exp(centres[y] + 0.8 * r.randn(n, 12)) * scale).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed)
    if raw:
        return Data(xtr, ytr, xva, yva, "synthetic count features (lognormal, up to ~1e4), raw", 3)
    ltr, lva = _standardise(np.log1p(xtr), np.log1p(xva))
    return Data(ltr, ytr, lva, yva, "synthetic count features, log1p then standardised", 3)


def hastie(seed, n=1600):
    x, y = datasets.make_hastie_10_2(n_samples=n, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), (y > 0).astype(np.int64), seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_hastie_10_2 (binary), standardised", 2)


def quantiles(seed, n=1500, classes=3):
    x, y = datasets.make_gaussian_quantiles(n_samples=n, n_features=4, n_classes=classes, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_gaussian_quantiles (4 features, %d shells), standardised" % classes, classes)


def multi_reg(seed, n=1400):
    """3 targets from 8 inputs (sums, products, a sine), standardised: half of each target is negative."""
    r = np.random.RandomState(seed)
    x = r.randn(n, 8).astype(np.float32)
    y = np.stack([x[:, 0] + 0.5 * x[:, 1] * x[:, 2], np.sin(x[:, 3]) + 0.3 * x[:, 4], x[:, 5] - x[:, 6] ** 2 / 2],
                 1) + 0.1 * r.randn(n, 3)
    xtr, xva, ytr, yva = _split(x, y.astype(np.float32), seed, stratify=False)
    mu, sd = ytr.mean(0), ytr.std(0)
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "synthetic 3-output regression (8 inputs), targets standardised", None)


def digits_unit(seed):
    """sklearn digits, 64 pixels scaled to 0..1 (an autoencoder's input and target)."""
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    return Data(xtr, ytr, xva, yva, "sklearn digits, pixels / 16", 10)


def digits_std_images(seed):
    d = digits_unit(seed)
    mu, sd = d.xtr.mean(), d.xtr.std()
    return Data(((d.xtr - mu) / sd).reshape(-1, 1, 8, 8), d.ytr, ((d.xva - mu) / sd).reshape(-1, 1, 8, 8), d.yva,
                "sklearn digits as 1x8x8, standardised", 10)


def imbalanced_weak(seed, weights=(0.86, 0.05, 0.05, 0.04)):
    x, y = datasets.make_classification(n_samples=1600, n_features=10, n_informative=2, n_redundant=0, n_classes=4,
                                        n_clusters_per_class=1, weights=list(weights), class_sep=0.25, flip_y=0.02,
                                        random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, 4 classes %s, weak features" % list(weights), 4)


def imbalanced_learnable(seed):
    x, y = datasets.make_classification(n_samples=2000, n_features=10, n_informative=5, n_redundant=2, n_classes=2,
                                        weights=[0.9, 0.1], class_sep=2.0, flip_y=0.01, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, binary 90/10, separable enough", 2)


def classif6(seed, n=1800, sep=1.3):
    x, y = datasets.make_classification(n_samples=n, n_features=16, n_informative=8, n_redundant=4, n_classes=6,
                                        n_clusters_per_class=2, class_sep=sep, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, 6 classes, 16 features", 6)


def prices(seed, n=1500):
    """A price-like target: lognormal, its noise growing with its size (as house prices do), standardised."""
    r = np.random.RandomState(seed)
    x = r.randn(n, 8).astype(np.float32)
    f = 0.6 * x[:, 0] + 0.4 * x[:, 1] * x[:, 2] + 0.3 * np.sin(2 * x[:, 3]) + 0.2 * x[:, 4]
    y = np.exp(0.6 * f + 0.25 * r.randn(n)).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "synthetic price-like target (lognormal), 8 inputs, y standardised", None)


def _sorted_by_target(d: Data) -> Data:
    o = np.argsort(d.ytr[:, 0] if d.ytr.ndim > 1 else d.ytr, kind="stable")
    return Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, d.num_classes)


# ---- models -----------------------------------------------------------------------------------

class DWSepCNN(nn.Module):
    """Depthwise-separable convs (3x3 depthwise + 1x1 pointwise) on 1-channel images."""

    def __init__(self, classes=4, width=16, out_act: Optional[nn.Module] = None):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.act0 = nn.ReLU()
        self.dw1 = nn.Conv2d(width, width, 3, padding=1, groups=width)
        self.pw1 = nn.Conv2d(width, 2 * width, 1)
        self.act1 = nn.ReLU()
        self.dw2 = nn.Conv2d(2 * width, 2 * width, 3, padding=1, groups=2 * width)
        self.pw2 = nn.Conv2d(2 * width, 2 * width, 1)
        self.act2 = nn.ReLU()
        self.out = nn.Linear(2 * width, classes)
        self.out_act = out_act

    def forward(self, x):
        x = self.act0(self.stem(x))
        x = F.max_pool2d(self.act1(self.pw1(self.dw1(x))), 2)
        x = self.act2(self.pw2(self.dw2(x))).mean((2, 3))
        z = self.out(x)
        return self.out_act(z) if self.out_act is not None else z


class BiGRU(nn.Module):
    def __init__(self, inputs=4, hidden=32, classes=4):
        super().__init__()
        self.gru = nn.GRU(inputs, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        h, _ = self.gru(x)
        return self.out(h.mean(1))


class DilatedTCN(nn.Module):
    """1-D dilated convs (dilation 1, 2, 4, 8) over the past window, a linear head for the horizon."""

    def __init__(self, length=24, ahead=4, width=16, act=nn.SiLU, init_std: Optional[float] = None, layers=4,
                 head_act: Optional[nn.Module] = None):
        super().__init__()
        self.convs = nn.ModuleList()
        self.acts = nn.ModuleList()
        for i in range(layers):
            d = 2 ** (i % 4)
            self.convs.append(nn.Conv1d(1 if i == 0 else width, width, 3, padding=d, dilation=d))
            self.acts.append(act())
        self.out = nn.Linear(width * length, ahead)
        self.head_act = head_act
        if init_std is not None:
            with torch.no_grad():
                for c in self.convs:
                    c.weight.normal_(0, init_std)
                    c.bias.zero_()

    def forward(self, x):
        for c, a in zip(self.convs, self.acts):
            x = a(c(x))
        z = self.out(x.flatten(1))
        return self.head_act(z) if self.head_act is not None else z


class MoE(nn.Module):
    """A softmax gate over 4 two-layer experts."""

    def __init__(self, inputs, classes, experts=4, hidden=64, act=nn.Mish):
        super().__init__()
        self.gate = nn.Linear(inputs, experts)
        self.fc1 = nn.ModuleList([nn.Linear(inputs, hidden) for _ in range(experts)])
        self.acts = nn.ModuleList([act() for _ in range(experts)])
        self.fc2 = nn.ModuleList([nn.Linear(hidden, classes) for _ in range(experts)])

    def forward(self, x):
        g = torch.softmax(self.gate(x), 1)
        outs = torch.stack([f2(a(f1(x))) for f1, a, f2 in zip(self.fc1, self.acts, self.fc2)], 1)
        return (g[:, :, None] * outs).sum(1)


class Highway(nn.Module):
    """Highway layers: h = T * act(W x) + (1 - T) * x, T = sigmoid(gate(x)), gate bias -1."""

    def __init__(self, inputs, classes, width=64, layers=3, act=nn.ReLU):
        super().__init__()
        self.inp = nn.Linear(inputs, width)
        self.act_in = act()
        self.h = nn.ModuleList([nn.Linear(width, width) for _ in range(layers)])
        self.hacts = nn.ModuleList([act() for _ in range(layers)])
        self.t = nn.ModuleList([nn.Linear(width, width) for _ in range(layers)])
        with torch.no_grad():
            for t in self.t:
                t.bias.fill_(-1.0)
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        x = self.act_in(self.inp(x))
        for h, a, t in zip(self.h, self.hacts, self.t):
            g = torch.sigmoid(t(x))
            x = g * a(h(x)) + (1 - g) * x
        return self.out(x)


class PatchViT(nn.Module):
    """8x8 digits as 16 patches of 2x2, a learned position embedding, 1 attention block, mean pool."""

    def __init__(self, classes=10, dim=32, drop=0.1):
        super().__init__()
        self.embed = nn.Linear(4, dim)
        self.pos = nn.Parameter(torch.zeros(1, 16, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 4, dropout=drop, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(2 * dim, dim)
        self.drop = nn.Dropout(drop)
        self.out = nn.Linear(dim, classes)

    def forward(self, x):
        p = x.reshape(-1, 4, 2, 4, 2).permute(0, 1, 3, 2, 4).reshape(-1, 16, 4)
        h = self.embed(p) + self.pos
        a = self.norm1(h)
        h = h + self.attn(a, a, a, need_weights=False)[0]
        h = h + self.drop(self.fc2(self.act(self.fc1(self.norm2(h)))))
        return self.out(h.mean(1))


class AutoEncoder(nn.Module):
    def __init__(self, inputs=64, code=12, hidden=48, act=nn.SiLU):
        super().__init__()
        self.enc1 = nn.Linear(inputs, hidden)
        self.act1 = act()
        self.enc2 = nn.Linear(hidden, code)
        self.dec1 = nn.Linear(code, hidden)
        self.act2 = act()
        self.dec2 = nn.Linear(hidden, inputs)

    def forward(self, x):
        return self.dec2(self.act2(self.dec1(self.enc2(self.act1(self.enc1(x))))))


def seq_mlp(sizes, act, bn_bias: Optional[float] = None, wn_gain: Optional[float] = None, out_act=None) -> nn.Sequential:
    layers: List[nn.Module] = []
    for i in range(len(sizes) - 2):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        if wn_gain is not None and i == 0:
            lin = nn.utils.weight_norm(lin)
            with torch.no_grad():
                lin.weight_g.fill_(wn_gain)
        layers.append(lin)
        if bn_bias is not None:
            bn = nn.BatchNorm1d(sizes[i + 1])
            with torch.no_grad():
                bn.bias.fill_(bn_bias)
            layers.append(bn)
        layers.append(act())
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class Temperature(nn.Module):
    """Divides the logits by a temperature (meant as 2.0, written as 0.02)."""

    def __init__(self, net, t):
        super().__init__()
        self.net, self.t = net, t

    def forward(self, x):
        return self.net(x) / self.t


class Flat(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x.flatten(1))


# ---- the training loop ------------------------------------------------------------------------

@dataclass
class Job:
    data: Data
    model: nn.Module
    architecture: str
    opt: Callable  # params -> optimizer
    opt_name: str
    lr: float
    epochs: int = 12
    batch_size: int = 32
    shuffle: bool = True
    loss: Optional[nn.Module] = None  # default: CrossEntropyLoss (classes) / MSELoss (regression)
    loss_name: str = ""
    binary_logit: bool = False  # one output unit, BCE-style loss, prediction = output > threshold
    threshold: float = 0.0
    recon: bool = False  # autoencoder: the target is the input
    sched: Optional[Callable] = None  # (opt, nb, epochs) -> (scheduler, "batch" | "epoch" | "plateau_epoch" | "plateau_batch")
    accum: int = 1  # optimizer step every `accum` minibatches
    penalty: Optional[Callable] = None  # model -> extra loss term (part of the logged loss)
    lr_jump: Optional[tuple] = None  # (epoch, factor): the lr is multiplied at that epoch's start
    val_x: Optional[np.ndarray] = None  # validation inputs as the (buggy) pipeline fed them
    train_labels: Optional[np.ndarray] = None
    config: Dict[str, object] = field(default_factory=dict)
    # logging habits
    keys: Dict[str, str] = field(default_factory=dict)
    log_every: int = 1  # 1: every step; k: mean of every k steps; 0: the epoch's mean at its end
    evals: int = 1  # evaluations per epoch
    acc_percent: bool = False
    epoch_metric: bool = False  # `epoch` logged as a metric too
    watch_every: int = 5  # 0: no watch()
    input_stats: bool = True
    label_stats: bool = False
    output_stats: bool = False
    topk: int = 0
    f1: bool = False
    train_acc: bool = True


KEYS = {"loss": "train/loss", "val_loss": "val/loss", "train_acc": "train/acc", "val_acc": "val/acc"}


def _macro_f1(pred, y, classes):
    f = []
    for c in range(classes):
        tp = float(((pred == c) & (y == c)).sum())
        fp = float(((pred == c) & (y != c)).sum())
        fn = float(((pred != c) & (y == c)).sum())
        f.append(2 * tp / max(1.0, 2 * tp + fp + fn))
    return sum(f) / classes


def run(case: str, seed: int, j: Job) -> Dict[str, float]:
    d = j.data
    regression = d.num_classes is None or j.recon
    xtr = torch.tensor(d.xtr, dtype=torch.float32)
    xva = torch.tensor(j.val_x if j.val_x is not None else d.xva, dtype=torch.float32)
    if j.recon:
        ytr, yva = xtr, xva
    elif regression or j.binary_logit:
        ytr = torch.tensor(d.ytr, dtype=torch.float32)
        yva = torch.tensor(d.yva, dtype=torch.float32)
        if ytr.dim() == 1:
            ytr, yva = ytr[:, None], yva[:, None]
    else:
        ytr = torch.tensor(j.train_labels if j.train_labels is not None else d.ytr, dtype=torch.long)
        yva = torch.tensor(d.yva, dtype=torch.long)
    if j.train_labels is not None and j.binary_logit:
        ytr = torch.tensor(j.train_labels, dtype=torch.float32)[:, None]
    model = j.model
    opt = j.opt(model.parameters())
    n = len(xtr)
    nb = math.ceil(n / j.batch_size)
    sched, per = j.sched(opt, nb, j.epochs) if j.sched else (None, None)
    loss_fn = j.loss if j.loss is not None else (nn.MSELoss() if regression else nn.CrossEntropyLoss())
    key = dict(KEYS, **j.keys)

    config: Dict[str, object] = {
        "model": j.architecture, "dataset": d.name, "optimizer": j.opt_name, "lr": j.lr, "batch_size": j.batch_size,
        "epochs": j.epochs, "shuffle": j.shuffle, "loss": j.loss_name or type(loss_fn).__name__,
        "train_size": n, "val_size": len(xva), "seed": seed,
    }
    if not regression:
        config["num_classes"] = d.num_classes
    if j.accum > 1:
        config["grad_accumulation"] = j.accum
    config.update(j.config)

    babysit.init(project="corpus6", name="%s-s%d" % (case.lower(), seed), config=config)
    if j.input_stats:
        babysit.log_input_stats(xtr if xtr.dim() != 3 else xtr.flatten(1))
    if j.label_stats:
        babysit.log_label_stats(d.ytr, num_classes=d.num_classes)
        babysit.log_label_stats(d.yva, split="val", num_classes=d.num_classes)
    if j.watch_every:
        babysit.watch(model, opt, every=j.watch_every)
    g = torch.Generator().manual_seed(seed)
    step = 0
    summary: Dict[str, float] = {}
    pending: List[float] = []
    eval_at = {int(round(nb * (k + 1) / j.evals)) - 1 for k in range(j.evals)}
    scale = 100.0 if j.acc_percent else 1.0

    def evaluate(ep_frac: float) -> Dict[str, float]:
        model.eval()
        with torch.no_grad():
            otr, ova = model(xtr), model(xva)
            row: Dict[str, float] = {key["val_loss"]: float(loss_fn(ova, yva))}
            if regression:
                row["val/mae"] = float((ova - yva).abs().mean())
                if j.output_stats:
                    babysit.log_output_stats(ova, yva, step=step, split="val")
            else:
                if j.binary_logit:
                    ptr, pva = (otr[:, 0] > j.threshold).long(), (ova[:, 0] > j.threshold).long()
                    ltr, lva = ytr[:, 0].long(), yva[:, 0].long()
                else:
                    ptr, pva, ltr, lva = otr.argmax(1), ova.argmax(1), ytr, yva
                if j.train_acc:
                    row[key["train_acc"]] = scale * float((ptr == ltr).float().mean())
                row[key["val_acc"]] = scale * float((pva == lva).float().mean())
                if j.topk:
                    top = ova.topk(j.topk, 1).indices
                    row["val/top%d" % j.topk] = scale * float((top == yva[:, None]).any(1).float().mean())
                if j.f1:
                    row["val/f1"] = _macro_f1(pva, lva, d.num_classes)
            if j.epoch_metric:
                row["epoch"] = ep_frac
        model.train()
        return row

    for ep in range(j.epochs):
        if j.lr_jump and ep == j.lr_jump[0]:
            for grp in opt.param_groups:
                grp["lr"] *= j.lr_jump[1]
        model.train()
        order = torch.randperm(n, generator=g) if j.shuffle else torch.arange(n)
        for b in range(nb):
            idx = order[b * j.batch_size:(b + 1) * j.batch_size]
            out = model(xtr[idx])
            loss = loss_fn(out, ytr[idx])
            if j.penalty is not None:
                loss = loss + j.penalty(model)
            (loss / j.accum).backward()
            if (b + 1) % j.accum == 0 or b == nb - 1:
                opt.step()
                opt.zero_grad()
            if per == "batch":
                sched.step()
            elif per == "plateau_batch":
                sched.step(float(loss))
            lv = float(loss)
            pending.append(lv)
            if step == 0:
                summary["first_loss"] = lv
            if j.log_every == 1:
                babysit.log({key["loss"]: lv}, step=step, epoch=ep + b / nb)
                pending = []
            elif j.log_every > 1 and len(pending) == j.log_every:
                babysit.log({key["loss"]: sum(pending) / len(pending)}, step=step, epoch=ep + b / nb)
                pending = []
            if b in eval_at:
                row = evaluate(ep + (b + 1) / nb)
                if j.log_every == 0 and b == nb - 1:
                    row[key["loss"]] = sum(pending) / max(1, len(pending))
                    pending = []
                babysit.log(row, step=step, epoch=ep + (b + 1) / nb)
                summary.update(row)
                if TRACE:
                    lr = opt.param_groups[0]["lr"]
                    sys.stderr.write("ep %5.2f lr %.3g loss %.4f %s\n" % (ep + (b + 1) / nb, lr, lv, " ".join(
                        "%s=%.4g" % kv for kv in row.items())))
            step += 1
        if per == "epoch":
            sched.step()
        elif per == "plateau_epoch":
            sched.step(summary[key["val_loss"]])
    summary["last_loss"] = float(loss)
    babysit.finish()
    return summary


# ---- optimizers and schedules ------------------------------------------------------------------

def adamax(lr, **kw):
    return lambda p: torch.optim.Adamax(p, lr=lr, **kw)


def nadam(lr, **kw):
    return lambda p: torch.optim.NAdam(p, lr=lr, **kw)


def radam(lr, **kw):
    return lambda p: torch.optim.RAdam(p, lr=lr, **kw)


def adamw(lr, **kw):
    return lambda p: torch.optim.AdamW(p, lr=lr, **kw)


def sgd(lr, **kw):
    return lambda p: torch.optim.SGD(p, lr=lr, **kw)


def exp_epoch(gamma):
    return lambda opt, nb, ep: (torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma), "epoch")


def plateau(per, **kw):
    return lambda opt, nb, ep: (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw), per)


def cyclic(base, top, half_epochs=2.0, momentum=False):
    return lambda opt, nb, ep: (torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=base, max_lr=top, step_size_up=max(1, int(half_epochs * nb)), cycle_momentum=momentum), "batch")


def linear_decay(per):
    """lr * (1 - t / epochs), floored at 0: meant per epoch; `per` says where it is stepped."""
    return lambda opt, nb, ep: (torch.optim.lr_scheduler.LambdaLR(opt, lambda t: max(0.0, 1.0 - t / ep)), per)


def warm_restarts(t0):
    return lambda opt, nb, ep: (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=t0 * nb), "batch")


def l1_penalty(lam):
    return lambda m: lam * sum(p.abs().sum() for n, p in m.named_parameters() if n.endswith("weight"))


# ---- the cases --------------------------------------------------------------------------------

def build(case: str, seed: int) -> Job:  # noqa: C901 - one branch per case, read top to bottom
    torch.manual_seed(seed)
    np.random.seed(seed)
    # ---- healthy controls
    if case == "C6-H-SHAPES-DWSEP":
        return Job(shapes(seed), DWSepCNN(), "depthwise-separable CNN stem16-dw-pw32-dw-pw32-gap", nadam(2e-3), "NAdam", 2e-3,
                   epochs=10, batch_size=32, sched=exp_epoch(0.85), config={"schedule": "ExponentialLR(0.85) per epoch"},
                   keys={"loss": "Loss/train", "val_loss": "Loss/val", "train_acc": "Accuracy/train", "val_acc": "Accuracy/val"},
                   watch_every=10)
    if case == "C6-H-TOKENS-BIGRU":
        return Job(token_counts(seed), BiGRU(), "bidirectional GRU(32) over 16 tokens, mean pool", radam(3e-3), "RAdam", 3e-3,
                   epochs=12, batch_size=32, log_every=4, evals=2, watch_every=8, input_stats=False, label_stats=True)
    if case == "C6-H-AE-DIGITS":
        d = digits_unit(seed)
        return Job(d, AutoEncoder(), "autoencoder 64-48-12-48-64 SiLU", adamax(4e-3), "Adamax", 4e-3, epochs=25,
                   batch_size=64, recon=True, keys={"loss": "loss", "val_loss": "metrics/val_loss"}, log_every=0,
                   watch_every=6, config={"task": "reconstruction"})
    if case == "C6-H-FORECAST-TCN":
        return Job(forecast(seed), DilatedTCN(), "dilated TCN (1,2,4,8) width 16 SiLU -> 4 ahead", adamw(3e-3, weight_decay=1e-2),
                   "AdamW", 3e-3, epochs=15, batch_size=64, loss=nn.HuberLoss(delta=1.0), sched=cyclic(5e-4, 3e-3),
                   config={"schedule": "CyclicLR(5e-4..3e-3, 2 epochs up)", "task": "forecasting", "weight_decay": 1e-2},
                   output_stats=True, watch_every=5)
    if case == "C6-H-QUANT-SMOOTH":
        return Job(quantiles(seed), seq_mlp([4, 64, 64, 3], nn.Mish), "MLP 4-64-64-3 Mish", nadam(3e-3), "NAdam", 3e-3,
                   epochs=25, batch_size=32, loss=nn.CrossEntropyLoss(label_smoothing=0.3),
                   config={"label_smoothing": 0.3}, acc_percent=True, watch_every=10, keys={"train_acc": "acc", "val_acc": "val_acc"})
    if case == "C6-H-IMB-WEIGHTED":
        d = imbalanced_learnable(seed)
        pos = float((d.ytr == 0).sum() / max(1, (d.ytr == 1).sum()))
        return Job(d, seq_mlp([10, 32, 16, 1], nn.ReLU), "MLP 10-32-16-1", radam(2e-3), "RAdam", 2e-3, epochs=20, batch_size=64,
                   loss=nn.BCEWithLogitsLoss(pos_weight=torch.tensor([pos])), loss_name="BCEWithLogitsLoss(pos_weight)",
                   binary_logit=True, label_stats=True, f1=True, config={"pos_weight": round(pos, 3), "num_classes": 2})
    if case == "C6-H-DIABETES-NOISY":
        d = datasets.load_diabetes()
        xtr, xva, ytr, yva = _split(d.data.astype(np.float32), d.target.astype(np.float32), seed, stratify=False)
        xtr, xva = _standardise(xtr, xva)
        mu, sd = ytr.mean(), ytr.std()
        data = Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "sklearn diabetes, x and y standardised", None)
        return Job(data, seq_mlp([10, 16, 1], nn.Softplus), "MLP 10-16-1 softplus", sgd(0.01, momentum=0.9,
                   weight_decay=1e-3), "SGD(momentum=0.9)", 0.01, epochs=20, batch_size=16,
                   sched=plateau("plateau_epoch", factor=0.5, patience=2, min_lr=1e-3),
                   config={"schedule": "ReduceLROnPlateau(val, 0.5, 2, min_lr 1e-3)", "weight_decay": 1e-3, "momentum": 0.9},
                   watch_every=4, output_stats=True)
    if case == "C6-H-HIGHWAY-ACCUM":
        return Job(digits_std_images(seed), Flat(Highway(64, 10)), "highway MLP 64-64x3-10", sgd(0.05, momentum=0.9), "SGD(momentum=0.9)", 0.05,
                   epochs=8, batch_size=16, accum=4, epoch_metric=True, topk=3, sched=linear_decay("epoch"),
                   config={"schedule": "linear decay to 0 over the run, per epoch", "momentum": 0.9, "effective_batch_size": 64})
    if case == "C6-H-MOE-RESTARTS":
        return Job(classif6(seed + 10, n=3000, sep=2.0), MoE(16, 6, hidden=32), "mixture of 4 experts 16-32-6 Mish, softmax gate",
                   sgd(0.05, momentum=0.9, weight_decay=5e-4), "SGD(momentum=0.9)", 0.05, epochs=15, batch_size=32,
                   sched=warm_restarts(5), config={"schedule": "CosineAnnealingWarmRestarts(T_0=5 epochs)", "momentum": 0.9,
                                                   "weight_decay": 5e-4},
                   watch_every=0, keys={"loss": "train_loss", "val_loss": "val_loss", "train_acc": "train_acc", "val_acc": "val_acc"})
    if case == "C6-H-VIT-REG":
        return Job(digits_std_images(seed), PatchViT(drop=0.2), "ViT-like: 16 patches of 2x2, dim 32, 1 block, dropout 0.2",
                   adamw(3e-3, weight_decay=0.05), "AdamW", 3e-3, epochs=12, batch_size=64, log_every=0, watch_every=0,
                   config={"weight_decay": 0.05, "dropout": 0.2}, keys={"loss": "train/epoch_loss"})
    # ---- no_learning
    if case == "C6-NL-OFFSET-GRU":
        d = token_counts(seed)
        # a Dataset whose __getitem__ returns the label of the NEXT row: every input gets a stranger's label
        return Job(d, BiGRU(), "bidirectional GRU(32) over 16 tokens, mean pool", radam(3e-3), "RAdam", 3e-3, epochs=10,
                   batch_size=32, log_every=4, train_labels=np.roll(d.ytr, -1), watch_every=8, input_stats=False)
    if case == "C6-NL-AXIS-STD":
        d = classif6(seed)
        # features reshaped to (N, F, 1) and "standardised per sample" over the last axis: every value becomes 0
        xtr = d.xtr[:, :, None]
        xtr = (xtr - xtr.mean(-1, keepdims=True)) / (xtr.std(-1, keepdims=True) + 1e-5)
        xva = d.xva[:, :, None]
        xva = (xva - xva.mean(-1, keepdims=True)) / (xva.std(-1, keepdims=True) + 1e-5)
        data = Data(xtr[:, :, 0], d.ytr, xva[:, :, 0], d.yva, d.name + ", then standardised per sample", 6)
        return Job(data, seq_mlp([16, 64, 64, 6], nn.SiLU), "MLP 16-64-64-6 SiLU", adamax(2e-3), "Adamax", 2e-3, epochs=15,
                   batch_size=32, keys={"loss": "Loss/train", "val_loss": "Loss/val", "val_acc": "Accuracy/val",
                                        "train_acc": "Accuracy/train"})
    # ---- loss_output_mismatch
    if case == "C6-LOM-SOFTMAX-NLL":
        return Job(shapes(seed), DWSepCNN(out_act=nn.Softmax(dim=1)), "depthwise-separable CNN, softmax output", nadam(2e-3),
                   "NAdam", 2e-3, epochs=10, batch_size=32, loss=nn.NLLLoss(), watch_every=10)
    if case == "C6-LOM-DOUBLE-SIGMOID":
        return Job(hastie(seed), seq_mlp([10, 64, 64, 1], nn.ReLU, out_act=nn.Sigmoid()), "MLP 10-64-64-1, sigmoid output",
                   adamw(2e-3), "AdamW", 2e-3, epochs=20, batch_size=32, loss=nn.BCEWithLogitsLoss(), binary_logit=True,
                   threshold=0.5, config={"num_classes": 2}, acc_percent=True, watch_every=10)
    if case == "C6-LOM-SOFTPLUS-REG":
        return Job(multi_reg(seed), seq_mlp([8, 64, 64, 3], nn.ReLU, out_act=nn.Softplus()), "MLP 8-64-64-3, softplus output",
                   radam(2e-3), "RAdam", 2e-3, epochs=20, batch_size=32, output_stats=True, config={"task": "regression"})
    # ---- unshuffled_data
    if case == "C6-UNS-SORTED-TARGET":
        return Job(_sorted_by_target(prices(seed)), seq_mlp([8, 64, 64, 1], nn.SiLU), "MLP 8-64-64-1 SiLU",
                   nadam(2e-3), "NAdam", 2e-3, epochs=15, batch_size=32, shuffle=False, config={"task": "regression"})
    if case == "C6-UNS-CLASS-BLOCKS":
        d = shapes(seed)
        o = np.argsort(d.ytr, kind="stable")  # the set was built class by class and never shuffled
        data = Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, 4)
        return Job(data, DWSepCNN(), "depthwise-separable CNN", adamax(3e-3), "Adamax", 3e-3, epochs=10, batch_size=32,
                   shuffle=False, watch_every=5)
    # ---- train_val_mismatch
    if case == "C6-TVM-LOG1P":
        d = counts(seed)
        raw = counts(seed, raw=True)
        mu, sd = np.log1p(raw.xtr).mean(0), np.log1p(raw.xtr).std(0)
        return Job(d, seq_mlp([12, 64, 3], nn.Mish), "MLP 12-64-3 Mish", nadam(2e-3), "NAdam", 2e-3, epochs=15, batch_size=32,
                   val_x=(raw.xva - mu) / sd, config={"preprocessing": "log1p + standardise"})
    if case == "C6-TVM-AE-RAW":
        d = digits_unit(seed)
        raw_va = d.xva * 16.0  # the validation loader skipped the / 16
        return Job(d, AutoEncoder(), "autoencoder 64-48-12-48-64 SiLU", adamax(4e-3), "Adamax", 4e-3, epochs=15, batch_size=64,
                   recon=True, val_x=raw_va, keys={"loss": "loss", "val_loss": "metrics/val_loss"}, log_every=4,
                   config={"task": "reconstruction"})
    # ---- over_regularization
    if case == "C6-OR-L1":
        return Job(classif6(seed), seq_mlp([16, 64, 64, 6], nn.ReLU), "MLP 16-64-64-6", adamw(3e-3), "AdamW", 3e-3, epochs=15,
                   batch_size=32, penalty=l1_penalty(5e-3), config={"l1": 5e-3})
    # ---- majority_class
    if case == "C6-MC-WEAK-F1":
        return Job(imbalanced_weak(seed), seq_mlp([10, 32, 4], nn.Softsign), "MLP 10-32-4 softsign", adamax(2e-3), "Adamax",
                   2e-3, epochs=15, batch_size=64, f1=True, acc_percent=True,
                   keys={"val_acc": "val/acc_pct", "train_acc": "train/acc_pct"})
    # ---- underfitting
    if case == "C6-UF-TINY-DWSEP":
        return Job(shapes(seed), DWSepCNN(width=2), "depthwise-separable CNN of width 2", nadam(3e-3), "NAdam", 3e-3,
                   epochs=12, batch_size=32, watch_every=10)
    # ---- lr_too_low
    if case == "C6-LRL-LINEAR-PER-BATCH":
        return Job(quantiles(seed), seq_mlp([4, 64, 64, 3], nn.Mish), "MLP 4-64-64-3 Mish", sgd(0.1, momentum=0.9),
                   "SGD(momentum=0.9)", 0.1, epochs=20, batch_size=32, sched=linear_decay("batch"),
                   config={"schedule": "linear decay to 0 over 20 epochs", "momentum": 0.9})
    if case == "C6-LRL-PLATEAU-PER-BATCH":
        return Job(shapes(seed), DWSepCNN(), "depthwise-separable CNN", adamax(2e-3), "Adamax", 2e-3, epochs=10, batch_size=32,
                   sched=plateau("plateau_batch", factor=0.5, patience=0),
                   config={"schedule": "ReduceLROnPlateau(factor 0.5, patience 0)"}, watch_every=5)
    # ---- lr_too_high
    if case == "C6-LRH-JUMP":
        return Job(digits_std_images(seed), Flat(seq_mlp([64, 128, 64, 10], nn.ReLU)), "MLP 64-128-64-10", nadam(1e-3), "NAdam",
                   1e-3, epochs=12, batch_size=32, lr_jump=(4, 300.0),
                   config={"schedule": "warmup 4 epochs, then lr x300 (meant x3)"}, watch_every=5)
    if case == "C6-LRH-ADAMAX":
        return Job(classif6(seed), seq_mlp([16, 64, 64, 6], nn.ReLU), "MLP 16-64-64-6", adamax(0.8), "Adamax", 0.8, epochs=15,
                   batch_size=32, watch_every=5)
    # ---- noisy_loss (batch size 1)
    if case == "C6-BS1-HASTIE":
        d = hastie(seed, n=600)
        return Job(d, seq_mlp([10, 32, 2], nn.Mish), "MLP 10-32-2 Mish", sgd(0.01), "SGD", 0.01, epochs=6, batch_size=1,
                   watch_every=25)
    # ---- divergence
    if case == "C6-DIV-CYCLIC":
        return Job(forecast(seed), DilatedTCN(), "dilated TCN (1,2,4,8) width 16 SiLU -> 4 ahead",
                   sgd(0.01, momentum=0.9), "SGD(momentum=0.9)", 0.01, epochs=12, batch_size=32,
                   sched=cyclic(0.01, 5.0, half_epochs=3.0), config={"schedule": "CyclicLR(0.01..5.0, 3 epochs up)",
                                                                     "momentum": 0.9, "task": "forecasting"},
                   watch_every=5)
    # ---- exploding / vanishing gradients
    if case == "C6-EXP-DEEP-SILU":
        m = seq_mlp([16] + [64] * 8 + [6], nn.SiLU)
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, nn.Linear):
                    mod.weight.normal_(0, 0.6)
        return Job(classif6(seed), m, "MLP 16-64x8-6 SiLU, init N(0, 0.6)", sgd(1e-4, momentum=0.9), "SGD(momentum=0.9)", 1e-4,
                   epochs=10, batch_size=32, watch_every=10, config={"init": "normal(0, 0.6)", "momentum": 0.9})
    if case == "C6-VG-DEEP-TCN-TANH":
        return Job(forecast(seed), DilatedTCN(act=nn.Tanh, init_std=0.03, layers=10), "dilated TCN, 10 tanh layers, init N(0, 0.03)",
                   sgd(0.05, momentum=0.9), "SGD(momentum=0.9)", 0.05, epochs=12, batch_size=32, watch_every=10,
                   config={"init": "normal(0, 0.03)", "momentum": 0.9, "task": "forecasting"})
    # ---- dead_relu / saturated_activations
    if case == "C6-DR-BN-BIAS":
        return Job(classif6(seed), seq_mlp([16, 64, 64, 6], nn.ReLU, bn_bias=-3.0), "MLP 16-64-64-6, BatchNorm(bias -3) then ReLU",
                   nadam(1e-3), "NAdam", 1e-3, epochs=12, batch_size=64, watch_every=5, config={"bn_bias_init": -3.0})
    if case == "C6-ST-WEIGHTNORM-TANH":
        return Job(counts(seed), seq_mlp([12, 64, 32, 3], nn.Tanh, wn_gain=60.0), "MLP 12-64-32-3 tanh, weight norm (g=60) on fc1",
                   adamax(2e-3), "Adamax", 2e-3, epochs=15, batch_size=32, watch_every=5, config={"weight_norm_g": 60.0})
    # ---- bad_initial_loss
    if case == "C6-BIL-TEMPERATURE":
        return Job(quantiles(seed), Temperature(seq_mlp([4, 64, 64, 3], nn.SiLU), 0.02), "MLP 4-64-64-3 SiLU, logits / 0.02",
                   radam(1e-3), "RAdam", 1e-3, epochs=15, batch_size=32, watch_every=5, config={"temperature": 0.02})
    # ---- input_not_normalized
    if case == "C6-INN-RAW-COUNTS":
        return Job(counts(seed, raw=True), seq_mlp([12, 64, 3], nn.ReLU), "MLP 12-64-3", adamw(1e-3), "AdamW", 1e-3, epochs=15,
                   batch_size=32, watch_every=5)
    # ---- overfitting
    if case == "C6-OF-MOE-SMALL":
        d = classif6(seed)
        r = np.random.RandomState(seed)
        k = r.choice(len(d.xtr), 90, replace=False)
        data = Data(d.xtr[k], d.ytr[k], d.xva, d.yva, d.name + ", 90 training rows", 6)
        return Job(data, MoE(16, 6, hidden=128), "mixture of 4 experts 16-128-6 Mish", adamw(3e-3), "AdamW", 3e-3, epochs=80,
                   batch_size=16, watch_every=10)
    raise KeyError(case)


# ---- labels -----------------------------------------------------------------------------------

def _control(fault, allowed=()):
    return dict(fault=fault, must=[], must_not=[], allowed=list(allowed), control=True, source="healthy control")


def _fault(fault, must, allowed=(), source=""):
    # must_not = every code of the alert list that is neither named nor defensible
    must_not = [c for c in ALL_CODES if c not in must and c not in allowed]
    return dict(fault=fault, must=list(must), must_not=must_not, allowed=list(allowed), control=False, source=source)


CASES: Dict[str, dict] = {
    "C6-H-SHAPES-DWSEP": _control("depthwise-separable CNN on noisy 12x12 shapes, NAdam, ExponentialLR per epoch"),
    "C6-H-TOKENS-BIGRU": _control("bidirectional GRU: most frequent of 4 symbols in 16 tokens, RAdam, loss mean of 4 steps, eval twice an epoch"),
    "C6-H-AE-DIGITS": _control("autoencoder on digits (reconstruction, MSE), Adamax, loss once an epoch"),
    "C6-H-FORECAST-TCN": _control("dilated 1-D conv forecaster (24 -> 4 ahead), Huber loss, AdamW + CyclicLR"),
    "C6-H-QUANT-SMOOTH": _control("Mish MLP on gaussian quantiles with label smoothing 0.3 (the loss floors high by design), acc in percent"),
    "C6-H-IMB-WEIGHTED": _control("90/10 binary problem handled right: BCEWithLogits with pos_weight, val/f1 logged"),
    "C6-H-DIABETES-NOISY": _control("noisy small regression (diabetes, 331 rows), softplus MLP, SGD momentum + ReduceLROnPlateau"),
    "C6-H-HIGHWAY-ACCUM": _control("highway MLP, SGD with 4-step gradient accumulation and linear decay, epoch and top-3 logged"),
    "C6-H-MOE-RESTARTS": _control("mixture of experts, SGD with cosine warm restarts (loss bumps at each restart), no watch()"),
    "C6-H-VIT-REG": _control("ViT-like patch transformer on digits, dropout 0.2 + AdamW wd 0.05, epoch-level numbers only, no watch()"),
    "C6-NL-OFFSET-GRU": _fault("labels shifted by one row against their sequences (a Dataset indexing bug): nothing to learn",
                               ["no_learning"], ["overfitting", "loss_plateau", "underfitting"], "DFD data; UM wrong labels"),
    "C6-NL-AXIS-STD": _fault("inputs standardised over a singleton axis: every input is 0, the net sees constants",
                             ["no_learning"], ["loss_plateau", "underfitting", "input_not_normalized"], "TDC constant input"),
    "C6-LOM-SOFTMAX-NLL": _fault("softmax outputs fed to NLLLoss (expects log-probabilities): the loss runs negative towards -1",
                                 ["loss_output_mismatch"], ["loss_plateau", "saturated_activations", "bad_initial_loss"],
                                 "TDC last-layer activation; UM softmax-before-loss"),
    "C6-LOM-DOUBLE-SIGMOID": _fault("sigmoid output then BCEWithLogitsLoss: the loss floors near 0.31 while accuracy is high",
                                    ["loss_output_mismatch"], ["loss_plateau", "saturated_activations", "overfitting"],
                                    "DFD act; TDC last-layer activation"),
    "C6-LOM-SOFTPLUS-REG": _fault("softplus on a regression output whose standardised targets are half negative",
                                  ["loss_output_mismatch"], ["loss_plateau", "underfitting"], "AT last-layer activation"),
    "C6-UNS-SORTED-TARGET": _fault("price-like regression (noise grows with the price) sorted by target, shuffle=False: "
                                   "the loss climbs 3-7x within every epoch and drops at the next",
                                   ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting"],
                                   "TDC unshuffled data"),
    "C6-UNS-CLASS-BLOCKS": _fault("images stored class by class and never shuffled (CNN, Adamax)",
                                  ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "no_learning",
                                                        "majority_class"], "TDC unshuffled data"),
    "C6-TVM-LOG1P": _fault("validation features skip the log1p of the training pipeline (counts up to ~1e4): val loss 35-260",
                           ["train_val_mismatch"], ["overfitting"], "TDC normalisation family (pipeline mismatch)"),
    "C6-TVM-AE-RAW": _fault("autoencoder: validation pixels 0..16 while training pixels are 0..1",
                            ["train_val_mismatch"], [], "TDC normalisation family (pipeline mismatch)"),
    "C6-OR-L1": _fault("an L1 penalty 5e-3 x sum|w| (logged in the loss) dominates it: weights shrink, accuracy held near 0.65",
                       ["over_regularization"], ["underfitting", "loss_plateau"], "TDC over_regularization; DEF Regularization"),
    "C6-MC-WEAK-F1": _fault("86 % of the data in one of 4 classes, weak features: the model answers the majority class",
                            ["majority_class"], ["loss_plateau", "underfitting", "no_learning"], "TDC unbalanced_data"),
    "C6-UF-TINY-DWSEP": _fault("a depthwise-separable CNN two channels wide: train and val accuracy track each other, creeping, far below the task",
                               ["underfitting"], ["loss_plateau"], "DEF model capacity"),
    "C6-LRL-LINEAR-PER-BATCH": _fault("a linear decay over 20 'epochs' stepped every batch: lr is 0 after 20 steps",
                                      ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause"),
    "C6-LRL-PLATEAU-PER-BATCH": _fault("ReduceLROnPlateau(patience 0) stepped on every batch's loss: lr halves again and again",
                                       ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause"),
    "C6-LRH-JUMP": _fault("lr multiplied by 300 after a 4-epoch warmup (meant 3x): the loss jumps and accuracy collapses",
                          ["lr_too_high"], ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning",
                                            "exploding_gradients", "majority_class"], "AT oscillating loss; DFD lr"),
    "C6-LRH-ADAMAX": _fault("Adamax at lr 0.8: update ratios far above 1e-3 the whole run",
                            ["lr_too_high"], ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning",
                                              "exploding_gradients", "majority_class"], "AT oscillating loss; DFD lr"),
    "C6-BS1-HASTIE": _fault("batch size 1 with SGD (per-sample losses logged every step)", ["noisy_loss"], ["lr_too_high"],
                            "AT OL; DFD batch size"),
    "C6-DIV-CYCLIC": _fault("CyclicLR with max_lr 5.0 on SGD momentum: the loss goes to NaN as the lr climbs in the first epoch",
                            ["divergence"], ["lr_too_high", "exploding_gradients", "noisy_loss"],
                            "AT EG/NaN"),
    "C6-EXP-DEEP-SILU": _fault("9 SiLU layers initialised N(0, 0.6): activations and gradients grow ~x4 per layer",
                               ["exploding_gradients"], ["bad_initial_loss", "divergence", "lr_too_high", "noisy_loss",
                                                         "loss_plateau", "no_learning", "underfitting"], "AT EG; TDC exploding"),
    "C6-VG-DEEP-TCN-TANH": _fault("10 tanh conv layers initialised N(0, 0.03): gradients vanish towards the input",
                                  ["vanishing_gradients"], ["loss_plateau", "underfitting", "no_learning", "lr_too_low"],
                                  "AT VG; TDC vanishing"),
    "C6-DR-BN-BIAS": _fault("BatchNorm bias initialised to -3 before each ReLU: almost every unit is dead",
                            ["dead_relu"], ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients", "lr_too_low"],
                            "AT DR; TDC dead units"),
    "C6-ST-WEIGHTNORM-TANH": _fault("weight norm with g=60 on the first tanh layer: its units are saturated",
                                    ["saturated_activations"], ["vanishing_gradients", "loss_plateau", "underfitting",
                                                                "bad_initial_loss", "overfitting", "noisy_loss"],
                                    "AT saturated activations; TDC saturation"),
    "C6-BIL-TEMPERATURE": _fault("logits divided by a temperature of 0.02 (meant 2.0): the first loss is far above ln 3",
                                 ["bad_initial_loss"], ["noisy_loss", "lr_too_high", "exploding_gradients", "loss_plateau"],
                                 "TDC poor initialisation"),
    "C6-INN-RAW-COUNTS": _fault("raw count features up to ~1e4 fed to an MLP",
                                ["input_not_normalized"], ["noisy_loss", "lr_too_high", "bad_initial_loss", "dead_relu",
                                                           "underfitting", "loss_plateau", "overfitting", "exploding_gradients"],
                                "TDC unnormalised input"),
    "C6-OF-MOE-SMALL": _fault("mixture of experts with 4x128 units on 90 training rows for 80 epochs: val loss climbs",
                              ["overfitting"], ["loss_plateau"], "DEF overfitting"),
}


def label(case: str, seed: int) -> dict:
    return label_of(CASES, case, seed)


if __name__ == "__main__":
    main(build, run)

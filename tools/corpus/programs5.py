"""corpus5: a second HELD-OUT set of real training programs, written without reading the rules.

Written for issue #10's evaluation by someone who did not read lib/diagnostics, docs/diagnostics.md,
their tests, the known-gaps files or corpus3: other architectures (a small transformer encoder over
tokens, an LSTM and a hand-written ReLU RNN over signals, an EmbeddingBag text model, a residual
LayerNorm/LeakyReLU MLP, a GroupNorm/GELU CNN, self-attention over tabular features), other losses
(multi-label BCE, L1/MAE regression, NLLLoss, class-weighted cross-entropy, an explicit L2 penalty),
other optimizers and schedules (RMSprop, SGD with Nesterov momentum, AdamW, OneCycleLR, a StepLR
stepped per batch, a buggy warm restart) and other logging habits (keys such as ``loss``,
``train_loss``, ``val_accuracy``, ``valid/acc``; per-batch, every-k-batches and per-epoch loss;
watch() on some runs only; ``log_label_stats``/``log_output_stats``/split inputs on some runs).

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs5.py C5-H-TRANSFORMER 0
Record them:   PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs5 \
                   --out tests/fixtures/corpus5 --seeds 0,1
Labels (``CASES``) say what is true about each program, written from the program and its own
printed numbers, never from what babysit raises.
"""

from __future__ import annotations

import math
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
from sklearn import datasets

import babysit
from programs import ALL_CODES, checked_label, Data, _split, _standardise

torch.set_num_threads(1)
TRACE = bool(os.environ.get("PROGRAMS5_TRACE"))  # per-epoch numbers on stderr, to check a program by hand


# ---- data -------------------------------------------------------------------------------------

def tokens(seed, n=1200, length=16, classes=4, vocab=40, flip=0.05, n_train=None):
    """Synthetic "documents": each class has 3 keyword tokens; a document holds 3 keywords of its
    class among random filler tokens (ids 13..vocab-1). 0 is padding. Some labels flipped."""
    r = np.random.RandomState(seed)
    y = r.randint(0, classes, n)
    x = r.randint(1 + 3 * classes, vocab, (n, length))
    for i in range(n):
        pos = r.choice(length, 3, replace=False)
        x[i, pos] = 1 + 3 * y[i] + r.randint(0, 3, 3)
    noisy = r.rand(n) < flip
    y = np.where(noisy, r.randint(0, classes, n), y)
    xtr, xva, ytr, yva = _split(x.astype(np.int64), y, seed)
    if n_train is not None:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    return Data(xtr, ytr, xva, yva, "synthetic keyword documents (%d tokens, vocab %d, %d%% labels flipped)"
                % (length, vocab, round(100 * flip)), classes)


def waves(seed, n=900, length=30):
    """Noisy sines in three frequency bands, one feature per time step: shape N, L, 1."""
    r = np.random.RandomState(seed)
    y = r.randint(0, 3, n)
    f = np.array([0.03, 0.08, 0.15])[y][:, None] * r.uniform(0.85, 1.15, (n, 1))
    ph = r.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(length)[None, :]
    x = np.sin(2 * np.pi * f * t + ph) + 0.35 * r.randn(n, length)
    xtr, xva, ytr, yva = _split(x.astype(np.float32)[:, :, None], y, seed)
    return Data(xtr, ytr, xva, yva, "synthetic noisy sines, 3 frequency bands, 30 steps", 3)


def digits_flat(seed, n_train=None):
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    mu, sd = xtr.mean(), xtr.std()
    if n_train is not None:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "sklearn digits (64 pixels), one global mean/std", 10)


def digits_img(seed):
    d = digits_flat(seed)
    return Data(d.xtr.reshape(-1, 1, 8, 8), d.ytr, d.xva.reshape(-1, 1, 8, 8), d.yva, "sklearn digits 1x8x8, global mean/std", 10)


def sk_tabular(loader, seed, name, scale=True):
    d = loader()
    xtr, xva, ytr, yva = _split(d.data.astype(np.float32), d.target, seed)
    if scale:
        xtr, xva = _standardise(xtr, xva)
    return Data(xtr.astype(np.float32), ytr, xva.astype(np.float32), yva, name, int(d.target.max()) + 1)


def multilabel(seed):
    x, y = datasets.make_multilabel_classification(n_samples=1400, n_features=20, n_classes=6, n_labels=2,
                                                   random_state=seed)
    xtr, xva, ytr, yva = _split(np.log1p(x).astype(np.float32), y.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_multilabel_classification (6 labels), log1p + standardised", None)


def regression(seed, scale_target=True, n=1500):
    x, y = datasets.make_regression(n_samples=n, n_features=10, n_informative=6, noise=8.0, random_state=seed)
    y = y + 0.004 * y ** 2 + 30 * np.sin(x[:, 0])
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    if scale_target:
        mu, sd = ytr.mean(), ytr.std()
        return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "sklearn make_regression + nonlinearity, x and y standardised", None)
    return Data(xtr, ytr, xva, yva, "sklearn make_regression + nonlinearity, x standardised, y raw (std ~%d)" % ytr.std(), None)


def classif(seed, classes=5, weights=None, sep=1.0, n=1600, informative=6, name=None):
    x, y = datasets.make_classification(n_samples=n, n_features=16, n_informative=informative, n_redundant=2,
                                        n_classes=classes, n_clusters_per_class=1, weights=weights, class_sep=sep,
                                        flip_y=0.0, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, name or "sklearn make_classification (%d classes, sep %g)" % (classes, sep), classes)


def weak_imbalanced(seed, p_minority=0.05, shift=0.25, n=1600, features=16):
    """Gaussian features; the rare class shifts two of them by `shift` standard deviations only."""
    r = np.random.RandomState(seed)
    y = (r.rand(n) < p_minority).astype(np.int64)
    x = r.randn(n, features).astype(np.float32)
    x[:, :2] += shift * y[:, None]
    xtr, xva, ytr, yva = _split(x, y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "synthetic: %d%% minority class, shifted %.2f sd on 2 of %d features"
                % (round(100 * p_minority), shift, features), 2)


def sorted_by(d: Data, key: np.ndarray) -> Data:
    o = np.argsort(key, kind="stable")
    return Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, d.num_classes)


# ---- models -----------------------------------------------------------------------------------

class TinyTransformer(nn.Module):
    def __init__(self, vocab=40, length=16, classes=4, d=32, heads=2, layers=1, out_act: Optional[nn.Module] = None):
        super().__init__()
        self.emb = nn.Embedding(vocab, d, padding_idx=0)
        self.pos = nn.Parameter(torch.randn(1, length, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, classes)
        self.out_act = out_act

    def forward(self, x):
        h = self.encoder(self.emb(x) + self.pos)
        z = self.out(self.norm(h.mean(1)))
        return self.out_act(z) if self.out_act is not None else z


class LSTMNet(nn.Module):
    def __init__(self, classes=3, hidden=32, out_std: Optional[float] = None):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, classes)
        if out_std is not None:  # the head initialised N(0, out_std), biases too
            with torch.no_grad():
                nn.init.normal_(self.out.weight, 0.0, out_std)
                nn.init.normal_(self.out.bias, 0.0, out_std)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.out(h[-1])


class HandRNN(nn.Module):
    """An Elman RNN written by hand (ReLU), recurrent weights a scaled orthogonal matrix."""

    def __init__(self, classes=3, hidden=32, gain=1.0):
        super().__init__()
        self.ih = nn.Linear(1, hidden)
        self.hh = nn.Linear(hidden, hidden, bias=False)
        self.act = nn.ReLU()
        self.out = nn.Linear(hidden, classes)
        with torch.no_grad():
            nn.init.orthogonal_(self.hh.weight, gain=gain)

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.hh.in_features)
        for t in range(x.shape[1]):
            h = self.act(self.ih(x[:, t]) + self.hh(h))
        return self.out(h)


class BagModel(nn.Module):
    def __init__(self, vocab=40, classes=4, d=32, hidden=64):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, d, mode="mean", padding_idx=0)
        self.fc1 = nn.Linear(d, hidden)
        self.act1 = nn.ReLU()
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.out(self.act1(self.fc1(self.bag(x))))


class ResLNMLP(nn.Module):
    """Three residual blocks x + LeakyReLU(Linear(LayerNorm(x))) around a 96-wide stream."""

    def __init__(self, inputs, outputs, width=96, blocks=3, out_act: Optional[nn.Module] = None):
        super().__init__()
        self.inp = nn.Linear(inputs, width)
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(blocks))
        self.fcs = nn.ModuleList(nn.Linear(width, width) for _ in range(blocks))
        self.acts = nn.ModuleList(nn.LeakyReLU(0.1) for _ in range(blocks))
        self.out = nn.Linear(width, outputs)
        self.out_act = out_act

    def forward(self, x):
        h = self.inp(x)
        for norm, fc, act in zip(self.norms, self.fcs, self.acts):
            h = h + act(fc(norm(h)))
        z = self.out(h)
        return self.out_act(z) if self.out_act is not None else z


class GNCNN(nn.Module):
    def __init__(self, classes=10, width=16, conv_bias: Optional[float] = None, act=nn.GELU, out_act: Optional[nn.Module] = None):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.gn1 = nn.GroupNorm(4, width)
        self.act1 = act()
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.act2 = act()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(8 * width, 64)
        self.act3 = act()
        self.out = nn.Linear(64, classes)
        self.out_act = out_act
        if conv_bias is not None:  # GroupNorm would undo a shifted bias on conv1: shift what follows no norm
            with torch.no_grad():
                self.conv2.bias.fill_(conv_bias)
                self.fc.bias.fill_(conv_bias)

    def forward(self, x):
        x = self.act1(self.gn1(self.conv1(x)))
        x = self.pool(self.act2(self.conv2(x)))
        z = self.out(self.act3(self.fc(x.flatten(1))))
        return self.out_act(z) if self.out_act is not None else z


class FeatureAttention(nn.Module):
    """Each tabular feature becomes a token (value x learned vector + feature embedding); one
    self-attention layer, mean pooling, a linear head."""

    def __init__(self, features, classes, d=16):
        super().__init__()
        self.scale = nn.Parameter(torch.randn(features, d) * 0.5)
        self.feat = nn.Parameter(torch.randn(features, d) * 0.1)
        self.attn = nn.MultiheadAttention(d, 2, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 32)
        self.act1 = nn.ELU()
        self.out = nn.Linear(32, classes)

    def forward(self, x):
        t = x[:, :, None] * self.scale + self.feat
        a, _ = self.attn(t, t, t, need_weights=False)
        return self.out(self.act1(self.fc1(self.norm(t + a).mean(1))))


def mlp(sizes: List[int], act: Callable[[], nn.Module], out_act: Optional[nn.Module] = None, init_std: Optional[float] = None,
        init_gain: Optional[float] = None) -> nn.Module:
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    for i in range(len(sizes) - 2):
        layers["fc%d" % (i + 1)] = nn.Linear(sizes[i], sizes[i + 1])
        layers["act%d" % (i + 1)] = act()
    layers["out"] = nn.Linear(sizes[-2], sizes[-1])
    if out_act is not None:
        layers["out_act"] = out_act
    model = nn.Sequential(layers)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                if init_std is not None:
                    nn.init.normal_(m.weight, 0.0, init_std)
                    nn.init.zeros_(m.bias)
                elif init_gain is not None:
                    nn.init.normal_(m.weight, 0.0, init_gain / math.sqrt(m.in_features))
                    nn.init.zeros_(m.bias)
    return model


# ---- the training loop ------------------------------------------------------------------------

KEYS = {"train_loss": "train/loss", "train_acc": "train/acc", "val_loss": "val/loss", "val_acc": "val/acc"}


@dataclass
class Program:
    data: Data
    model: nn.Module
    architecture: str
    task: str = "ce"  # ce / nll (the model's outputs into NLLLoss) / bce (multi-label) / l1 / mse
    optimizer: str = "adam"  # adam / adamw / sgd / nesterov / rmsprop
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    l2_penalty: float = 0.0  # added to the loss by hand (sum of squared weights)
    epochs: int = 10
    batch_size: int = 32
    shuffle: bool = True
    schedule: Optional[str] = None  # onecycle / cosine / step_per_batch / restart_x100
    class_weights: bool = False
    clip: Optional[float] = None
    val_x: Optional[np.ndarray] = None  # validation inputs as the (buggy) pipeline fed them
    train_x: Optional[np.ndarray] = None  # training inputs as the (buggy) pipeline fed them
    train_labels: Optional[np.ndarray] = None
    keys: Dict[str, str] = field(default_factory=dict)
    log_every: int = 1  # 1: every step; k: the mean of every k steps; 0: once an epoch (the epoch's mean)
    watch: int = 5  # watch(every=...); 0: no watch()
    input_stats: str = "train"  # "", "train" or "both" (train and split="val")
    label_stats: bool = False
    output_stats: bool = False
    log_grad_norm: bool = False
    extra_config: Dict[str, object] = field(default_factory=dict)
    config_omit: List[str] = field(default_factory=list)


def _optimizer(p: Program, params):
    if p.optimizer == "adam":
        return torch.optim.Adam(params, lr=p.lr, weight_decay=p.weight_decay)
    if p.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=p.lr, weight_decay=p.weight_decay)
    if p.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
    return torch.optim.SGD(params, lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay, nesterov=p.optimizer == "nesterov")


def _schedule(p: Program, opt, nb: int):
    """(scheduler, stepped "batch" or "epoch")."""
    if p.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=p.lr, total_steps=nb * p.epochs), "batch"
    if p.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=p.epochs), "epoch"
    if p.schedule == "step_per_batch":  # StepLR(step_size=3, gamma=0.5) meant for epochs, stepped every batch
        return torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), "batch"
    if p.schedule == "restart_x100":  # a "warm restart" that multiplies the lr by 100 from epoch 6 on
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 if e < 6 else 100.0), "epoch"
    raise KeyError(p.schedule)


def run(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    classify = p.task in ("ce", "nll")
    tokens_in = d.xtr.dtype == np.int64
    xdtype = torch.long if tokens_in else torch.float32
    xtr = torch.tensor(p.train_x if p.train_x is not None else d.xtr, dtype=xdtype)
    xva = torch.tensor(p.val_x if p.val_x is not None else d.xva, dtype=xdtype)
    ydtype = torch.long if classify else torch.float32
    ytr = torch.tensor(p.train_labels if p.train_labels is not None else d.ytr, dtype=ydtype)
    yva = torch.tensor(d.yva, dtype=ydtype)
    if p.task in ("l1", "mse"):
        ytr, yva = ytr[:, None], yva[:, None]
    model = p.model
    opt = _optimizer(p, model.parameters())
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    sched, per = _schedule(p, opt, nb) if p.schedule else (None, None)
    weight = None
    if p.class_weights:
        counts = np.bincount(d.ytr, minlength=d.num_classes).astype(np.float32)
        weight = torch.tensor(counts.sum() / (len(counts) * counts))
    loss_fn = {"ce": lambda: nn.CrossEntropyLoss(weight=weight), "nll": nn.NLLLoss, "bce": nn.BCEWithLogitsLoss,
               "l1": nn.L1Loss, "mse": nn.MSELoss}[p.task]()
    loss_name = {"ce": "CrossEntropyLoss", "nll": "NLLLoss", "bce": "BCEWithLogitsLoss", "l1": "L1Loss", "mse": "MSELoss"}[p.task]

    config: Dict[str, object] = {
        "model": p.architecture, "dataset": d.name,
        "optimizer": {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "nesterov": "SGD(nesterov)"}.get(p.optimizer, "SGD"),
        "lr": p.lr, "batch_size": p.batch_size, "epochs": p.epochs, "loss": loss_name,
        "train_size": n, "val_size": len(xva), "seed": seed,
    }
    if p.momentum:
        config["momentum"] = p.momentum
    if p.weight_decay:
        config["weight_decay"] = p.weight_decay
    if p.l2_penalty:
        config["l2_penalty"] = p.l2_penalty
    if not p.shuffle:
        config["shuffle"] = False
    if p.schedule:
        config["lr_schedule"] = p.schedule
    if p.clip:
        config["grad_clip"] = p.clip
    if classify:
        config["num_classes"] = d.num_classes
    if p.task == "bce":
        config["num_labels"] = int(d.ytr.shape[1])
    config.update(p.extra_config)
    for k in p.config_omit:
        config.pop(k, None)

    babysit.init(project="corpus5", name="%s-s%d" % (case.lower(), seed), config=config)
    if p.input_stats:
        babysit.log_input_stats(xtr.flatten(1).float())
        if p.input_stats == "both":
            babysit.log_input_stats(xva.flatten(1).float(), split="val")
    if p.label_stats:
        babysit.log_label_stats(ytr, num_classes=d.num_classes)
        babysit.log_label_stats(yva, split="val", num_classes=d.num_classes)
    if p.watch:
        babysit.watch(model, opt, every=p.watch)
    key = dict(KEYS, **p.keys)
    g = torch.Generator().manual_seed(seed)
    step = 0
    summary: Dict[str, float] = {}
    pending: List[float] = []

    def metric(out, y):
        if classify:
            return float((out.argmax(1) == y).float().mean())
        if p.task == "bce":  # micro F1 at 0.5
            pred = (out > 0).float()
            tp = float((pred * y).sum())
            return 2 * tp / max(1.0, float(pred.sum() + y.sum()))
        return float(nn.functional.l1_loss(out, y))

    for ep in range(p.epochs):
        model.train()
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        for b in range(nb):
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            if p.l2_penalty:
                loss = loss + p.l2_penalty * sum((w ** 2).sum() for name, w in model.named_parameters() if name.endswith("weight"))
            opt.zero_grad()
            loss.backward()
            gnorm = nn.utils.clip_grad_norm_(model.parameters(), p.clip if p.clip else float("inf"))
            opt.step()
            if per == "batch":
                sched.step()
            pending.append(float(loss))
            row: Dict[str, object] = {}
            if p.log_every == 1:
                row[key["train_loss"]] = loss.detach()
                pending = []
            elif p.log_every > 1 and len(pending) == p.log_every:
                row[key["train_loss"]] = sum(pending) / len(pending)
                pending = []
            if p.log_grad_norm:
                row["grad_norm"] = float(gnorm)
            if row:
                babysit.log(row, step=step, epoch=ep + b / nb)
            if step == 0:
                summary["first_loss"] = float(loss)
            step += 1
        if per == "epoch":
            sched.step()
        model.eval()
        with torch.no_grad():
            otr, ova = model(xtr), model(xva)
            row = {}
            if p.log_every == 0:
                row[key["train_loss"]] = sum(pending) / max(1, len(pending))
                pending = []
            vl = loss_fn(ova, yva)
            row[key["val_loss"]] = float(vl)
            if classify or p.task == "bce":
                row[key["train_acc"]] = metric(otr, ytr)
                row[key["val_acc"]] = metric(ova, yva)
            else:
                row[key.get("val_mae", "val/mae")] = metric(ova, yva)
            if p.output_stats:
                babysit.log_output_stats(ova, yva, step=step - 1, split="val")
        babysit.log(row, step=step - 1)
        summary.update({k: float(v) for k, v in row.items()})
        if TRACE:
            sys.stderr.write("ep %d %s\n" % (ep, " ".join("%s=%.4g" % (k, float(v)) for k, v in row.items())))
    summary["last_loss"] = float(loss)
    babysit.finish()
    return summary


# ---- the cases --------------------------------------------------------------------------------

KERAS = {"train_loss": "loss", "train_acc": "accuracy", "val_loss": "val_loss", "val_acc": "val_accuracy"}
UNDERSCORE = {"train_loss": "train_loss", "train_acc": "train_acc", "val_loss": "val_loss", "val_acc": "val_acc"}
VALID = {"train_loss": "train/loss", "train_acc": "train/acc", "val_loss": "valid/loss", "val_acc": "valid/acc"}


def build(case: str, seed: int) -> Program:
    torch.manual_seed(seed)
    np.random.seed(seed)
    # ---- healthy controls
    if case == "C5-H-TRANSFORMER":
        return Program(tokens(seed), TinyTransformer(), "transformer encoder (1 layer, d 32, 2 heads), mean pool, LayerNorm",
                       optimizer="adamw", lr=2e-3, weight_decay=0.01, epochs=10, batch_size=32, schedule="onecycle",
                       input_stats="", extra_config={"warmup": "onecycle"})
    if case == "C5-H-LSTM-RMSPROP":
        return Program(waves(seed), LSTMNet(), "LSTM(1->32), linear head", optimizer="rmsprop", lr=3e-3, epochs=12,
                       batch_size=32, keys=KERAS)
    if case == "C5-H-BAG-NESTEROV":
        return Program(tokens(seed), BagModel(), "EmbeddingBag(mean, d 32) -> 64 ReLU -> 4", optimizer="nesterov", lr=0.2,
                       momentum=0.9, epochs=10, batch_size=32, keys=VALID, input_stats="", log_every=5)
    if case == "C5-H-MULTILABEL":
        return Program(multilabel(seed), mlp([20, 64, 64, 6], nn.ReLU), "MLP 20-64-64-6, sigmoid outputs in the loss",
                       task="bce", lr=1e-3, epochs=15, batch_size=32,
                       keys={"val_acc": "val/micro_f1", "train_acc": "train/micro_f1"})
    if case == "C5-H-MAE-ONECYCLE":
        return Program(regression(seed), mlp([10, 64, 64, 1], nn.ELU), "MLP 10-64-64-1 ELU", task="l1", optimizer="nesterov",
                       lr=0.05, momentum=0.9, epochs=15, batch_size=32, schedule="onecycle", output_stats=True,
                       extra_config={"task": "regression"})
    if case == "C5-H-RESLN-NOWATCH":
        return Program(digits_flat(seed), ResLNMLP(64, 10), "residual MLP, LayerNorm + LeakyReLU(0.1), width 96, 3 blocks",
                       optimizer="adamw", lr=1e-3, weight_decay=0.05, epochs=8, batch_size=64, watch=0, keys=UNDERSCORE)
    if case == "C5-H-GNCNN-EPOCH":
        return Program(digits_img(seed), GNCNN(), "CNN conv16-GroupNorm-GELU-conv32-GELU-avgpool2-fc64", optimizer="adamw",
                       lr=2e-3, weight_decay=1e-4, epochs=8, batch_size=32, schedule="cosine", log_every=0, keys=KERAS)
    if case == "C5-H-FEATATTN-CANCER":
        return Program(sk_tabular(datasets.load_breast_cancer, seed, "sklearn breast cancer, standardised"),
                       FeatureAttention(30, 2), "self-attention over 30 feature tokens (d 16), ELU head", lr=2e-3, epochs=12,
                       batch_size=32, watch=10, input_stats="both")
    if case == "C5-H-IMB-WEIGHTED":
        return Program(classif(seed, 2, weights=[0.9, 0.1], sep=1.2, informative=8), mlp([16, 32, 32, 2], nn.LeakyReLU),
                       "MLP 16-32-32-2 LeakyReLU, class-weighted cross-entropy", lr=2e-3, epochs=8, batch_size=64,
                       class_weights=True, label_stats=True)
    if case == "C5-H-WINE-SGD-SMALLBATCH":
        return Program(sk_tabular(datasets.load_wine, seed, "sklearn wine, standardised"), mlp([13, 32, 3], nn.Tanh),
                       "MLP 13-32-3 tanh", optimizer="sgd", lr=0.02, momentum=0.9, epochs=20, batch_size=8, log_every=2)
    # ---- no_learning
    if case == "C5-NL-LSTM-SHUFFLED":
        d = waves(seed)
        return Program(d, LSTMNet(), "LSTM(1->32), linear head", optimizer="rmsprop", lr=3e-3, epochs=10, batch_size=32,
                       train_labels=np.random.RandomState(50 + seed).permutation(d.ytr), keys=KERAS)
    if case == "C5-NL-PAD-TOKENS":
        d = tokens(seed)
        return Program(d, TinyTransformer(), "transformer encoder (1 layer, d 32, 2 heads), mean pool, LayerNorm",
                       optimizer="adamw", lr=1e-3, weight_decay=0.01, epochs=8, batch_size=32, input_stats="",
                       train_x=np.zeros_like(d.xtr), val_x=np.zeros_like(d.xva))  # the loader returned the padding
    # ---- loss_output_mismatch
    if case == "C5-LOM-SOFTMAX-NLL":
        return Program(digits_img(seed), GNCNN(out_act=nn.Softmax(dim=1)), "CNN conv16-GN-GELU-conv32-fc64, softmax output",
                       task="nll", lr=1e-3, epochs=8, batch_size=32)
    if case == "C5-LOM-RELU-REG":
        return Program(regression(seed), mlp([10, 64, 64, 1], nn.ReLU, out_act=nn.ReLU()), "MLP 10-64-64-1, ReLU on the output",
                       task="mse", lr=1e-3, epochs=15, batch_size=32, output_stats=True, keys={"train_loss": "loss"},
                       extra_config={"task": "regression"})
    # ---- unshuffled_data
    if case == "C5-UNS-BAG-SORTED":
        d = tokens(seed)
        return Program(sorted_by(d, d.ytr), BagModel(), "EmbeddingBag(mean, d 32) -> 64 ReLU -> 4", optimizer="adam", lr=2e-3,
                       epochs=10, batch_size=32, shuffle=False, input_stats="", keys=UNDERSCORE)
    if case == "C5-UNS-REG-BY-TARGET":
        d = regression(seed)
        return Program(sorted_by(d, d.ytr), mlp([10, 64, 64, 1], nn.GELU), "MLP 10-64-64-1 GELU", task="mse", lr=2e-3, epochs=15,
                       batch_size=32, shuffle=False, extra_config={"task": "regression"})
    # ---- train_val_mismatch
    if case == "C5-TVM-WINE-RAW-VAL":
        d = sk_tabular(datasets.load_wine, seed, "sklearn wine, standardised (train)")
        raw = sk_tabular(datasets.load_wine, seed, "raw", scale=False)
        return Program(d, mlp([13, 64, 3], nn.LeakyReLU), "MLP 13-64-3 LeakyReLU", optimizer="adamw", lr=3e-3, epochs=25,
                       batch_size=16, val_x=raw.xva)
    if case == "C5-TVM-LSTM-VAL-X10":
        d = waves(seed)
        return Program(d, LSTMNet(), "LSTM(1->32), linear head", lr=5e-3, epochs=10, batch_size=32, val_x=d.xva * 10.0,
                       keys=VALID, input_stats="both")  # validation recordings in other units (x10)
    # ---- over_regularization
    if case == "C5-OR-L2-PENALTY":
        return Program(digits_flat(seed), mlp([64, 128, 10], nn.ReLU), "MLP 64-128-10", lr=2e-3, l2_penalty=0.1, epochs=12,
                       batch_size=32, keys=UNDERSCORE)
    if case == "C5-OR-RMSPROP-WD":
        return Program(classif(seed, 5, sep=1.5), mlp([16, 64, 64, 5], nn.ELU), "MLP 16-64-64-5 ELU", optimizer="rmsprop",
                       lr=1e-3, weight_decay=0.3, epochs=15, batch_size=32)
    # ---- majority_class
    if case == "C5-MC-BINARY-95":
        return Program(weak_imbalanced(seed), mlp([16, 32, 2], nn.ReLU),
                       "MLP 16-32-2", optimizer="sgd", lr=0.02, momentum=0.9, epochs=15, batch_size=64, label_stats=True)
    if case == "C5-MC-3CLASS-ATTN":
        return Program(classif(seed, 3, weights=[0.8, 0.1, 0.1], sep=0.2, informative=3), FeatureAttention(16, 3),
                       "self-attention over 16 feature tokens (d 16), ELU head", optimizer="sgd", lr=0.01, epochs=12,
                       batch_size=32, keys=KERAS)
    # ---- lr_too_low
    if case == "C5-LRL-STEPLR-PER-BATCH":
        return Program(tokens(seed), TinyTransformer(), "transformer encoder (1 layer, d 32, 2 heads), mean pool, LayerNorm",
                       optimizer="adamw", lr=1e-3, epochs=10, batch_size=32, schedule="step_per_batch", input_stats="")
    if case == "C5-LRL-SGD-LSTM":
        return Program(waves(seed), LSTMNet(), "LSTM(1->32), linear head", optimizer="sgd", lr=1e-4, epochs=12, batch_size=32,
                       keys=UNDERSCORE)
    # ---- lr_too_high
    if case == "C5-LRH-RESTART-X100":
        return Program(digits_flat(seed), mlp([64, 128, 64, 10], nn.ReLU), "MLP 64-128-64-10", lr=1e-3, epochs=12, batch_size=32,
                       schedule="restart_x100", keys=KERAS)
    if case == "C5-LRH-ADAM-BAG":
        return Program(tokens(seed), BagModel(), "EmbeddingBag(mean, d 32) -> 64 ReLU -> 4", lr=0.5, epochs=10, batch_size=32,
                       input_stats="")
    # ---- divergence / exploding / vanishing / dead / initial loss / inputs
    if case == "C5-DIV-REG-RAW":
        return Program(regression(seed, scale_target=False), mlp([10, 64, 1], nn.ELU), "MLP 10-64-1 ELU", task="mse",
                       optimizer="nesterov", lr=0.01, momentum=0.9, epochs=10, batch_size=32, keys={"train_loss": "loss"},
                       extra_config={"task": "regression"})
    if case == "C5-EXP-RNN-GAIN":
        return Program(waves(seed), HandRNN(gain=2.0), "hand-written ReLU RNN (32), recurrent weights orthogonal x2",
                       optimizer="sgd", lr=1e-3, momentum=0.9, epochs=6, batch_size=32, log_grad_norm=True)
    if case == "C5-VG-TANH-SMALLINIT":
        return Program(sk_tabular(datasets.load_breast_cancer, seed, "sklearn breast cancer, standardised"),
                       mlp([30] + [64] * 9 + [2], nn.Tanh, init_std=0.03), "MLP 30-64x9-2 tanh, weights N(0, 0.03)",
                       optimizer="sgd", lr=0.01, momentum=0.9, epochs=15, batch_size=32)
    if case == "C5-DR-CNN-BIAS":
        return Program(digits_img(seed), GNCNN(conv_bias=-3.0, act=nn.ReLU), "CNN conv16-GN-ReLU-conv32-ReLU-fc64, biases -3",
                       lr=1e-3, epochs=8, batch_size=32)
    if case == "C5-BIL-LSTM-OUTGAIN":
        return Program(waves(seed), LSTMNet(out_std=6.0), "LSTM(1->32), linear head initialised N(0, 6)", lr=3e-3, epochs=12,
                       batch_size=32)
    if case == "C5-INN-CANCER-RAW":
        return Program(sk_tabular(datasets.load_breast_cancer, seed, "sklearn breast cancer, raw features", scale=False),
                       mlp([30, 64, 2], nn.ReLU), "MLP 30-64-2", lr=1e-3, epochs=20, batch_size=32, keys=UNDERSCORE)
    # ---- underfitting / overfitting / noisy_loss
    if case == "C5-UF-BOTTLENECK3":
        return Program(digits_flat(seed), mlp([64, 3, 10], nn.ELU), "MLP 64-3-10 ELU (3-unit hidden layer)", optimizer="nesterov",
                       lr=0.02, momentum=0.9, epochs=15, batch_size=32, keys=VALID)
    if case == "C5-OF-TRANSFORMER-SMALL":
        return Program(tokens(seed, flip=0.3, n_train=120), TinyTransformer(d=64, layers=2),
                       "transformer encoder (2 layers, d 64), 120 training documents, 30% labels flipped", lr=2e-3, epochs=60,
                       batch_size=20, input_stats="", log_every=3)
    if case == "C5-BS1-WINE":
        return Program(sk_tabular(datasets.load_wine, seed, "sklearn wine, standardised"), mlp([13, 32, 3], nn.ReLU), "MLP 13-32-3",
                       optimizer="nesterov", lr=0.005, momentum=0.9, epochs=4, batch_size=1)
    raise KeyError(case)


def _fault(fault, must, allowed=(), source=""):
    """A faulty program: every code outside `must` and `allowed` would be a wrong diagnosis."""
    return dict(fault=fault, must=list(must), allowed=list(allowed), control=False, source=source)


def _control(fault, allowed=()):
    return dict(fault="healthy: %s (control)" % fault, must=[], allowed=list(allowed), control=True, source="AT normal")


CASES: Dict[str, dict] = {
    "C5-H-TRANSFORMER": _control("1-layer transformer on keyword documents, AdamW + one-cycle"),
    "C5-H-LSTM-RMSPROP": _control("LSTM on noisy sines, RMSprop, Keras-style keys"),
    "C5-H-BAG-NESTEROV": _control("EmbeddingBag text model, SGD Nesterov 0.2, valid/ keys, loss every 5 steps"),
    "C5-H-MULTILABEL": _control("multi-label MLP with BCEWithLogitsLoss, micro-F1 logged"),
    "C5-H-MAE-ONECYCLE": _control("ELU MLP regression with L1 loss, SGD Nesterov + one-cycle, output stats"),
    "C5-H-RESLN-NOWATCH": _control("residual LayerNorm/LeakyReLU MLP on digits, AdamW, no watch(), underscore keys"),
    "C5-H-GNCNN-EPOCH": _control("GroupNorm/GELU CNN on digits, AdamW + cosine, loss once an epoch"),
    "C5-H-FEATATTN-CANCER": _control("self-attention over tabular features on breast cancer, Adam, val input stats"),
    "C5-H-IMB-WEIGHTED": _control("90/10 imbalanced, class-weighted loss, learns the minority class; label stats"),
    "C5-H-WINE-SGD-SMALLBATCH": _control("tanh MLP on wine, SGD momentum, batch 8"),
    "C5-NL-LSTM-SHUFFLED": _fault("training labels permuted apart from the signals (LSTM, RMSprop)", ["no_learning"],
                                  ["loss_plateau", "underfitting", "overfitting"], "DFD data; UM wrong labels"),
    "C5-NL-PAD-TOKENS": _fault("the loader feeds only padding tokens (constant input) to a transformer", ["no_learning"],
                               ["loss_plateau", "underfitting", "vanishing_gradients"], "DD data; TDC constant input"),
    "C5-LOM-SOFTMAX-NLL": _fault("softmax outputs fed to NLLLoss (expects log-probabilities): the loss goes negative",
                                 ["loss_output_mismatch"],
                                 ["bad_initial_loss", "loss_plateau", "underfitting", "vanishing_gradients", "lr_too_low",
                                  "saturated_activations"], "TDC wrong_loss_input; UM softmax-before-loss"),
    "C5-LOM-RELU-REG": _fault("ReLU on the output of a regression to standardised (half negative) targets, MSE, output stats logged",
                              ["loss_output_mismatch"], ["underfitting", "loss_plateau", "dead_relu"],
                              "TDC wrong_last_activation; DFD act"),
    "C5-UNS-BAG-SORTED": _fault("documents sorted by class, shuffle off (EmbeddingBag, Adam)", ["unshuffled_data"],
                                ["noisy_loss", "loss_plateau", "underfitting", "lr_too_high", "no_learning", "majority_class",
                                 "overfitting", "divergence"], "TDC unshuffled data"),
    "C5-UNS-REG-BY-TARGET": _fault("regression rows sorted by target value, shuffle off (GELU MLP, MSE)", ["unshuffled_data"],
                                   ["noisy_loss", "loss_plateau", "underfitting", "lr_too_high", "overfitting", "divergence"],
                                   "TDC unshuffled data (ordered by target)"),
    "C5-TVM-WINE-RAW-VAL": _fault("validation features left raw while training ones are standardised: val loss ~500 vs train ~0",
                                  ["train_val_mismatch"], [], "TDC normalisation family (pipeline mismatch)"),
    "C5-TVM-LSTM-VAL-X10": _fault("validation signals in other units (x10) than training ones (LSTM), val input stats logged",
                                  ["train_val_mismatch"], [],
                                  "TDC normalisation family (pipeline mismatch)"),
    "C5-OR-L2-PENALTY": _fault("an explicit L2 penalty 0.1 x sum of squared weights dominates the loss", ["over_regularization"],
                               ["underfitting", "loss_plateau"], "TDC over_regularization; DEF Regularization"),
    "C5-OR-RMSPROP-WD": _fault("RMSprop with weight decay 0.3 on a 5-class MLP", ["over_regularization"],
                               ["underfitting", "loss_plateau", "no_learning"], "TDC over_regularization"),
    "C5-MC-BINARY-95": _fault("95/5 classes, features barely informative: the MLP answers the majority (label stats logged)",
                              ["majority_class"], ["loss_plateau", "underfitting", "no_learning"],
                              "TDC unbalanced_data; SMD class_imbalance"),
    "C5-MC-3CLASS-ATTN": _fault("80/10/10 classes with weak features, no label stats: the model answers the majority",
                                ["majority_class"], ["loss_plateau", "underfitting", "no_learning", "lr_too_low"],
                                "TDC unbalanced_data"),
    "C5-LRL-STEPLR-PER-BATCH": _fault("StepLR(step_size=3, gamma=0.5) stepped every batch: the lr is ~0 after 100 steps",
                                      ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause; DFD lr"),
    "C5-LRL-SGD-LSTM": _fault("plain SGD at lr 1e-4 on an LSTM: the loss barely moves", ["lr_too_low"],
                              ["loss_plateau", "underfitting", "no_learning"], "AT slow convergence; DFD lr"),
    "C5-LRH-RESTART-X100": _fault("a buggy warm restart multiplies Adam's lr by 100 at epoch 6 (1e-3 -> 0.1)", ["lr_too_high"],
                                  ["divergence", "dead_relu", "noisy_loss", "exploding_gradients", "loss_plateau", "underfitting",
                                   "no_learning", "majority_class"], "AT oscillating loss; DFD lr"),
    "C5-LRH-ADAM-BAG": _fault("Adam at lr 0.5 on an EmbeddingBag model", ["lr_too_high"],
                              ["divergence", "dead_relu", "noisy_loss", "exploding_gradients", "loss_plateau", "underfitting",
                               "no_learning", "majority_class"], "AT oscillating loss; DFD lr"),
    "C5-DIV-REG-RAW": _fault("MSE on raw targets (std ~100+), SGD Nesterov 0.01: the loss blows up", ["divergence"],
                             ["lr_too_high", "exploding_gradients", "noisy_loss", "dead_relu", "bad_initial_loss", "loss_plateau"],
                             "AT EG (unscaled target); DD numerical errors"),
    "C5-EXP-RNN-GAIN": _fault("hand-written ReLU RNN, recurrent weights orthogonal x2 over 30 steps: gradients explode, NaN",
                              ["exploding_gradients", "divergence"],
                              ["lr_too_high", "noisy_loss", "bad_initial_loss", "dead_relu", "loss_plateau",
                               "no_learning", "underfitting"], "AT EG; DD exploding"),
    "C5-VG-TANH-SMALLINIT": _fault("9 tanh layers initialised N(0, 0.03): signals and gradients vanish", ["vanishing_gradients"],
                                   # it sits at the majority share (0.63) with the loss at the priors' entropy: that reading is fair too
                                   ["loss_plateau", "underfitting", "no_learning", "lr_too_low", "majority_class"],
                                   "AT VG; DD vanishing; TDC init"),
    "C5-DR-CNN-BIAS": _fault("conv2 and fc biases initialised to -3 after ReLU: most units dead", ["dead_relu"],
                             ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients", "lr_too_low"],
                             "AT DR; TDC dead units"),
    "C5-BIL-LSTM-OUTGAIN": _fault("LSTM head (weights and biases) initialised N(0, 6): the first loss is far above ln 3", ["bad_initial_loss"],
                                  ["loss_plateau", "noisy_loss", "saturated_activations"], "TDC init; cs231n initial loss"),
    "C5-INN-CANCER-RAW": _fault("raw breast cancer features (areas ~1000, smoothness ~0.1) fed to an MLP",
                                ["input_not_normalized"],
                                ["bad_initial_loss", "noisy_loss", "lr_too_high", "dead_relu", "underfitting", "loss_plateau",
                                 "exploding_gradients"], "TDC normalisation; DFD data"),
    "C5-UF-BOTTLENECK3": _fault("digits through a 3-unit hidden layer: train and val accuracy stay together, low",
                                ["underfitting"], ["loss_plateau", "lr_too_low"], "DEF model capacity; DFD layer"),
    "C5-OF-TRANSFORMER-SMALL": _fault("2-layer transformer on 120 documents (30% noisy labels), 60 epochs: memorises",
                                      ["overfitting"], ["noisy_loss"], "AT overfit; DD overfit"),
    "C5-BS1-WINE": _fault("batch size 1 (per-sample losses), SGD Nesterov on wine", ["noisy_loss"], ["lr_too_high"],
                          "AT OL; DFD batch size"),
}


def label(case: str, seed: int) -> dict:
    c = CASES[case]
    out = {"case": case, "seed": seed, "fault": c["fault"], "must": c["must"]}
    out["must_not"] = [x for x in ALL_CODES if x not in c["allowed"] and x not in c["must"]]
    out.update(allowed=c["allowed"], control=c["control"], source=c["source"])
    return checked_label(case, out)


if __name__ == "__main__":
    name, s = sys.argv[1], int(sys.argv[2])
    result = run(name, s, build(name, s))
    print(name, s, " ".join("%s=%.4g" % kv for kv in result.items()), flush=True)

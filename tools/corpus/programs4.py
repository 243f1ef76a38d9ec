"""corpus4: more real training programs, mostly HEALTHY ones set up the many ways users set them up.

Written after the rules of issue #10 to check them on programs they have never seen: healthy
controls across architectures (MLP with dropout or batchnorm, small CNN, a GRU over image rows, a
1-D conv net over signals), data sets (digits, wine, breast cancer, iris, moons, circles, diabetes,
a synthetic housing-like regression, an imbalanced but learnable problem), optimizers (SGD with
momentum, Adam, AdamW with the usual weight decay) and habits (step/cosine/one-cycle schedules,
warmup, label smoothing, gradient clipping, small and large batches, few epochs, runs that converge
fast and then sit at a low loss, runs that overfit mildly as healthy nets do); and faulty programs of
the existing codes in settings corpus2 and ho2 do not have. Logged as the README says: ``init`` with
the hyperparameters, ``log_input_stats``, ``watch(model, optimizer)``, the loss every step,
train/val accuracy and val loss once an epoch, ``finish``.

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs4.py C4-H-IRIS 0
Record them:   PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs4 \
                   --out tests/fixtures/corpus4 --seeds 0,1
Labels (``CASES``) were written from the program, not from what babysit raises.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn
from sklearn import datasets

import babysit
from programs import _CONTROL, ALL_CODES, checked_label, Data, _faulty, _permuted, _split, _standardise, cancer, mlp, moons, tabular, wine

torch.set_num_threads(1)


# ---- data (what programs.py does not have) ------------------------------------------------------

def digits_flat(seed):
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    # one mean and std for all pixels: a border pixel that is always 0 in the training split has no
    # per-pixel std (a per-feature scaler would blow the rare non-zero validation pixel up to ~1e7)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "sklearn digits, 64 pixels standardised", 10)


def digits_rows(seed):
    """Each image as a sequence of its 8 rows (8 values each), for a recurrent net."""
    d = digits_flat(seed)
    return Data(d.xtr.reshape(-1, 8, 8), d.ytr, d.xva.reshape(-1, 8, 8), d.yva, "sklearn digits as 8 rows of 8, standardised", 10)


def digits_images(seed):
    d = digits_flat(seed)
    return Data(d.xtr.reshape(-1, 1, 8, 8), d.ytr, d.xva.reshape(-1, 1, 8, 8), d.yva, "sklearn digits as 1x8x8, standardised", 10)


def iris(seed):
    return tabular(datasets.load_iris, seed, "sklearn iris, standardised")


def circles(seed, n=1000):
    x, y = datasets.make_circles(n_samples=n, noise=0.1, factor=0.5, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_circles(noise=0.1, factor=0.5), standardised", 2)


def diabetes(seed, scale_target=True):
    d = datasets.load_diabetes()
    xtr, xva, ytr, yva = _split(d.data.astype(np.float32), d.target.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    if scale_target:
        mu, sd = ytr.mean(), ytr.std()
        return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "sklearn diabetes, x and y standardised", None)
    return Data(xtr, ytr, xva, yva, "sklearn diabetes, x standardised, y raw (25..346)", None)


def housing_like(seed, n=2000):
    """A housing-like regression (8 features, income-like skewed inputs, a nonlinear price)."""
    r = np.random.RandomState(seed)
    x = r.randn(n, 8).astype(np.float32)
    x[:, 0] = np.exp(0.5 * x[:, 0])  # median income: skewed
    y = (2.0 * np.log1p(x[:, 0]) + 0.8 * np.sin(x[:, 1]) * x[:, 2] - 0.5 * x[:, 3] ** 2 + 0.3 * x[:, 4]
         + 0.3 * r.randn(n)).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "synthetic housing-like regression (8 features), x and y standardised", None)


def signals(seed, n=1200, length=64):
    """Noisy sine, square and sawtooth waves of random frequency and phase: 3 classes, shape N, 1, L."""
    r = np.random.RandomState(seed)
    t = np.arange(length, dtype=np.float32)[None, :]
    y = r.randint(0, 3, n)
    f = r.uniform(0.05, 0.15, (n, 1))
    ph = r.uniform(0, 2 * np.pi, (n, 1))
    arg = 2 * np.pi * f * t + ph
    waves = [np.sin(arg), np.sign(np.sin(arg)), 2 * ((arg / (2 * np.pi)) % 1.0) - 1]
    x = np.choose(y[:, None], waves) + 0.6 * r.randn(n, length)
    xtr, xva, ytr, yva = _split(x.astype(np.float32)[:, None], y, seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "synthetic sine/square/sawtooth signals (64 samples), standardised", 3)


def imbalanced_learnable(seed, weights=(0.85, 0.15)):
    x, y = datasets.make_classification(n_samples=1500, n_features=12, n_informative=6, n_redundant=2, n_classes=len(weights),
                                        weights=list(weights), class_sep=1.5, flip_y=0.01, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, weights %s, well separated" % list(weights), len(weights))


def imbalanced_weak(seed, weights=(0.88, 0.04, 0.04, 0.04)):
    x, y = datasets.make_classification(n_samples=1500, n_features=12, n_informative=3, n_redundant=1, n_classes=len(weights),
                                        n_clusters_per_class=1, weights=list(weights), class_sep=0.3, flip_y=0.0,
                                        random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, weights %s, weak features" % list(weights), len(weights))


def _sorted(d: Data) -> Data:
    o = np.argsort(d.ytr, kind="stable")
    return Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, d.num_classes)


# ---- models -----------------------------------------------------------------------------------

def mlp_bn_dropout(sizes, p=0.0, bn=False) -> nn.Module:
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    for i in range(len(sizes) - 2):
        layers["fc%d" % (i + 1)] = nn.Linear(sizes[i], sizes[i + 1])
        if bn:
            layers["bn%d" % (i + 1)] = nn.BatchNorm1d(sizes[i + 1])
        layers["act%d" % (i + 1)] = nn.ReLU()
        if p > 0:
            layers["drop%d" % (i + 1)] = nn.Dropout(p)
    layers["out"] = nn.Linear(sizes[-2], sizes[-1])
    return nn.Sequential(layers)


class BNCNN(nn.Module):
    def __init__(self, classes=10, width=12):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.drop = nn.Dropout(0.25)
        self.out = nn.Linear(8 * width, classes)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.pool(self.relu2(self.bn2(self.conv2(x))))
        return self.out(self.drop(x.flatten(1)))


class RowGRU(nn.Module):
    def __init__(self, classes=10, hidden=48, out_act: Optional[nn.Module] = None):
        super().__init__()
        self.gru = nn.GRU(8, hidden, batch_first=True)
        self.out = nn.Linear(hidden, classes)
        self.out_act = out_act

    def forward(self, x):
        _, h = self.gru(x)
        z = self.out(h[-1])
        return self.out_act(z) if self.out_act is not None else z


class Conv1DNet(nn.Module):
    def __init__(self, classes=3, width=16):
        super().__init__()
        self.conv1 = nn.Conv1d(1, width, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv1d(width, width, 5, padding=2)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveMaxPool1d(4)
        self.out = nn.Linear(4 * width, classes)

    def forward(self, x):
        x = self.pool(self.relu2(self.conv2(self.relu1(self.conv1(x)))))
        return self.out(x.flatten(1))


class ResMLP(nn.Module):
    """Two residual blocks of LayerNorm -> Linear -> GELU around a 64-wide stream."""

    def __init__(self, inputs, classes, width=64):
        super().__init__()
        self.inp = nn.Linear(inputs, width)
        self.norm1 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.act1 = nn.GELU()
        self.norm2 = nn.LayerNorm(width)
        self.fc2 = nn.Linear(width, width)
        self.act2 = nn.GELU()
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        h = self.inp(x)
        h = h + self.act1(self.fc1(self.norm1(h)))
        h = h + self.act2(self.fc2(self.norm2(h)))
        return self.out(h)


def blobs6(seed):
    x, y = datasets.make_blobs(n_samples=1500, n_features=10, centers=6, cluster_std=2.5, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_blobs(6 centres, 10 features), standardised", 6)


def deep_sigmoid(sizes):
    return mlp(sizes, nn.Sigmoid)


def hidden_bias(model: nn.Module, bias: float) -> nn.Module:
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear) and name.startswith("fc"):
                m.bias.fill_(bias)
    return model


# ---- the training loop ------------------------------------------------------------------------

# schedules: name -> (factory(opt, steps_per_epoch, epochs), stepped "batch" or "epoch", config text)
def _schedule(name: str, opt, nb: int, epochs: int, lr: float):
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.3), "epoch"
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs), "epoch"
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=nb * epochs), "batch"
    if name == "warmup":  # linear warmup over 3 epochs, then constant
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (3 * nb))), "batch"
    if name == "warmup_cosine":  # linear warmup over 2 epochs, then cosine to 0
        w, tot = 2 * nb, nb * epochs
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, tot - w)))), "batch"
    if name == "multistep_per_batch":  # MultiStepLR([5, 10]) meant for epochs, stepped every batch
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[5, 10], gamma=0.1), "batch"
    raise KeyError(name)


@dataclass
class Program:
    data: Data
    model: nn.Module
    architecture: str
    optimizer: str = "adam"  # adam / adamw / sgd
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    epochs: int = 12
    batch_size: int = 32
    shuffle: bool = True
    schedule: Optional[str] = None
    label_smoothing: float = 0.0
    clip: Optional[float] = None
    activation: str = "relu"
    val_x: Optional[np.ndarray] = None  # validation inputs as the (buggy) pipeline fed them
    train_labels: Optional[np.ndarray] = None
    val_labels: Optional[np.ndarray] = None
    extra_config: Dict[str, object] = field(default_factory=dict)
    # logging habits: key names (train_loss, train_acc, val_loss, val_acc), the training loss as the
    # mean of every `log_every` steps (0: once an epoch, the epoch's mean), accuracy in percent,
    # whether watch() and the validation metrics are used
    keys: Dict[str, str] = field(default_factory=dict)
    log_every: int = 1
    acc_percent: bool = False
    watch: bool = True
    val: bool = True


KEYS = {"train_loss": "train/loss", "train_acc": "train/acc", "val_loss": "val/loss", "val_acc": "val/acc"}


def run(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    regression = d.num_classes is None
    lab = torch.float32 if regression else torch.long
    xtr = torch.tensor(d.xtr, dtype=torch.float32)
    xva = torch.tensor(p.val_x if p.val_x is not None else d.xva, dtype=torch.float32)
    ytr = torch.tensor(p.train_labels if p.train_labels is not None else d.ytr, dtype=lab)
    yva = torch.tensor(p.val_labels if p.val_labels is not None else d.yva, dtype=lab)
    if regression:
        ytr, yva = ytr[:, None], yva[:, None]
    model = p.model
    opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adagrad": torch.optim.Adagrad}.get(p.optimizer)
    if opt_cls is not None:
        opt = opt_cls(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    elif p.optimizer == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay,
                              nesterov=p.optimizer == "nesterov")
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    sched, per = _schedule(p.schedule, opt, nb, p.epochs, p.lr) if p.schedule else (None, None)
    if regression:
        loss_fn = nn.SmoothL1Loss() if p.extra_config.get("loss") == "SmoothL1Loss" else nn.MSELoss()
    else:
        loss_fn = nn.CrossEntropyLoss(label_smoothing=p.label_smoothing)

    config: Dict[str, object] = {
        "model": p.architecture, "dataset": d.name,
        "optimizer": {"adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad", "rmsprop": "RMSprop",
                      "nesterov": "SGD(nesterov)"}.get(p.optimizer, "SGD"),
        "lr": p.lr, "momentum": p.momentum, "weight_decay": p.weight_decay, "batch_size": p.batch_size,
        "epochs": p.epochs, "shuffle": p.shuffle, "loss": "MSELoss" if regression else "CrossEntropyLoss",
        "activation": p.activation, "train_size": n, "val_size": len(xva), "seed": seed,
    }
    if p.schedule:
        config["schedule"] = p.schedule
    if p.label_smoothing:
        config["label_smoothing"] = p.label_smoothing
    if p.clip:
        config["grad_clip"] = p.clip
    if not regression:
        config["num_classes"] = d.num_classes
    config.update(p.extra_config)

    babysit.init(project="corpus4", name="%s-s%d" % (case.lower(), seed), config=config)
    babysit.log_input_stats(xtr.flatten(1))
    if p.watch:
        babysit.watch(model, opt, every=5)
    key = dict(KEYS, **p.keys)
    g = torch.Generator().manual_seed(seed)
    step = 0
    summary: Dict[str, float] = {}
    pending: list = []
    for ep in range(p.epochs):
        model.train()
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        for b in range(nb):
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            if len(idx) < 2 and any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
                continue  # BatchNorm cannot train on a batch of one
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            if p.clip:
                nn.utils.clip_grad_norm_(model.parameters(), p.clip)
            opt.step()
            if per == "batch":
                sched.step()
            pending.append(float(loss))
            if p.log_every == 1:
                babysit.log({key["train_loss"]: loss.detach()}, step=step, epoch=ep + b / nb)
                pending = []
            elif p.log_every > 1 and len(pending) == p.log_every:
                babysit.log({key["train_loss"]: sum(pending) / len(pending)}, step=step, epoch=ep + b / nb)
                pending = []
            if step == 0:
                summary["first_loss"] = float(loss)
            step += 1
        if per == "epoch":
            sched.step()
        model.eval()
        scale = 100.0 if p.acc_percent else 1.0
        with torch.no_grad():
            otr, ova = model(xtr), model(xva)
            row = {key["val_loss"]: float(loss_fn(ova, yva))} if p.val else {}
            if p.log_every == 0:
                row[key["train_loss"]] = sum(pending) / max(1, len(pending))
                pending = []
            if not regression:
                row[key["train_acc"]] = scale * float((otr.argmax(1) == ytr).float().mean())
                if p.val:
                    row[key["val_acc"]] = scale * float((ova.argmax(1) == yva).float().mean())
            else:
                row["train/mse"] = float(nn.functional.mse_loss(otr, ytr))
        babysit.log(row, step=step - 1)
        summary.update(row)
    summary["last_loss"] = float(loss)
    babysit.finish()
    return summary


# ---- the cases --------------------------------------------------------------------------------

def build(case: str, seed: int) -> Program:
    torch.manual_seed(seed)
    np.random.seed(seed)
    # healthy controls
    if case == "C4-H-DIGITS-DROPOUT":
        return Program(digits_flat(seed), mlp_bn_dropout([64, 128, 64, 10], p=0.2), "MLP 64-128-64-10, dropout 0.2",
                       lr=1e-3, epochs=12, batch_size=64)
    if case == "C4-H-CNN-BN-COSINE":
        return Program(digits_images(seed), BNCNN(), "CNN conv12-bn-conv24-bn-avgpool2, dropout 0.25", optimizer="sgd",
                       lr=0.05, momentum=0.9, weight_decay=5e-4, epochs=8, batch_size=64, schedule="cosine")
    if case == "C4-H-WINE-ADAMW":
        return Program(wine(seed), mlp([13, 64, 3], nn.ReLU), "MLP 13-64-3", optimizer="adamw", lr=3e-3, weight_decay=1e-2,
                       epochs=30, batch_size=16)
    if case == "C4-H-CANCER-STEPLR":
        return Program(cancer(seed), mlp([30, 32, 16, 2], nn.ReLU), "MLP 30-32-16-2", optimizer="sgd", lr=0.01, momentum=0.9,
                       epochs=30, batch_size=32, schedule="step")
    if case == "C4-H-MOONS-ONECYCLE":
        return Program(moons(seed), mlp([2, 64, 64, 2], nn.ReLU), "MLP 2-64-64-2", optimizer="sgd", lr=0.1, momentum=0.9,
                       epochs=15, batch_size=32, schedule="onecycle")
    if case == "C4-H-CIRCLES-WARMUP":
        return Program(circles(seed), mlp([2, 32, 32, 2], nn.Tanh), "MLP 2-32-32-2 tanh", lr=1e-2, epochs=20, batch_size=32,
                       schedule="warmup", activation="tanh")
    if case == "C4-H-IRIS-SMALLBATCH":
        return Program(iris(seed), mlp([4, 16, 3], nn.ReLU), "MLP 4-16-3", lr=1e-2, epochs=40, batch_size=8)
    if case == "C4-H-DIGITS-LARGEBATCH":
        return Program(digits_flat(seed), mlp([64, 128, 10], nn.ReLU), "MLP 64-128-10", lr=3e-3, epochs=40, batch_size=512)
    if case == "C4-H-CNN-LABELSMOOTH":
        return Program(digits_images(seed), BNCNN(), "CNN conv12-bn-conv24-bn-avgpool2, dropout 0.25", lr=2e-3, epochs=8,
                       batch_size=32, label_smoothing=0.1)
    if case == "C4-H-DIABETES-CLIP":
        return Program(diabetes(seed), mlp([10, 32, 1], nn.ReLU), "MLP 10-32-1", lr=1e-3, epochs=40, batch_size=16, clip=1.0,
                       extra_config={"task": "regression"})
    if case == "C4-H-HOUSING-SGD":
        return Program(housing_like(seed), mlp([8, 64, 64, 1], nn.ReLU), "MLP 8-64-64-1", optimizer="sgd", lr=0.01,
                       momentum=0.9, epochs=20, batch_size=64, extra_config={"task": "regression"})
    if case == "C4-H-IMBALANCED-LEARNED":
        return Program(imbalanced_learnable(seed), mlp([12, 32, 2], nn.ReLU), "MLP 12-32-2", lr=3e-3, epochs=15, batch_size=32)
    if case == "C4-H-GRU-ROWS":
        return Program(digits_rows(seed), RowGRU(), "GRU(8->48) over image rows, linear head", lr=5e-3, epochs=8,
                       batch_size=64, clip=5.0, activation="gru")
    if case == "C4-H-CONV1D-SIGNALS":
        return Program(signals(seed), Conv1DNet(), "Conv1d 16-16, max-pool 4, linear head", optimizer="adamw", lr=3e-3,
                       weight_decay=1e-2, epochs=10, batch_size=32, schedule="warmup_cosine")
    if case == "C4-H-MOONS-FAST-SIT":
        return Program(moons(seed, noise=0.1), mlp([2, 64, 64, 2], nn.ReLU), "MLP 2-64-64-2", lr=1e-2, epochs=30, batch_size=32)
    if case == "C4-H-CANCER-MILD-OVERFIT":
        return Program(cancer(seed), mlp([30, 128, 128, 2], nn.ReLU), "MLP 30-128-128-2", lr=1e-3, epochs=25, batch_size=32)
    # healthy, logged with other habits
    if case == "C4-H-LOG-KERAS-EPOCH":  # Keras-style keys, the training loss once an epoch (its mean)
        return Program(wine(seed), mlp([13, 32, 3], nn.ReLU), "MLP 13-32-3", lr=3e-3, epochs=40, batch_size=16, log_every=0,
                       keys={"train_loss": "loss", "train_acc": "accuracy", "val_loss": "val_loss", "val_acc": "val_accuracy"})
    if case == "C4-H-LOG-EVERY10-PERCENT":  # the mean of every 10 steps, accuracy in percent
        return Program(digits_images(seed), BNCNN(), "CNN conv12-bn-conv24-bn-avgpool2, dropout 0.25", lr=2e-3, epochs=8,
                       batch_size=32, log_every=10, acc_percent=True,
                       keys={"train_loss": "loss", "train_acc": "train/accuracy", "val_acc": "val/accuracy"})
    if case == "C4-H-LOG-NOWATCH":  # no watch(): loss and accuracies only
        return Program(cancer(seed), mlp([30, 64, 2], nn.ReLU), "MLP 30-64-2", optimizer="sgd", lr=0.02, momentum=0.9,
                       epochs=25, batch_size=32, watch=False)
    if case == "C4-H-LOG-NOVAL":  # no validation metrics at all
        return Program(circles(seed), mlp([2, 32, 32, 2], nn.ReLU), "MLP 2-32-32-2", lr=5e-3, epochs=20, batch_size=32, val=False)
    if case == "C4-H-LOG-REG-EPOCH":  # a regression logged once an epoch, Keras-style keys
        return Program(housing_like(seed), mlp([8, 64, 1], nn.ReLU), "MLP 8-64-1", optimizer="adamw", lr=3e-3,
                       weight_decay=1e-2, epochs=30, batch_size=64, log_every=0, schedule="cosine",
                       keys={"train_loss": "loss", "val_loss": "val_loss"}, extra_config={"task": "regression"})
    if case == "C4-H-LOG-SHORT":  # a short run: 3 epochs of a CNN, every step logged
        return Program(digits_images(seed), BNCNN(), "CNN conv12-bn-conv24-bn-avgpool2, dropout 0.25", lr=3e-3, epochs=3,
                       batch_size=32)
    # healthy, other optimizers, activations and architectures
    if case == "C4-H-RMSPROP-BLOBS":
        return Program(blobs6(seed), mlp([10, 64, 64, 6], nn.LeakyReLU), "MLP 10-64-64-6 LeakyReLU", optimizer="rmsprop",
                       lr=1e-3, epochs=15, batch_size=32, activation="leaky_relu")
    if case == "C4-H-ADAGRAD-WINE":
        return Program(wine(seed), mlp([13, 32, 3], nn.GELU), "MLP 13-32-3 GELU", optimizer="adagrad", lr=0.05, epochs=30,
                       batch_size=16, activation="gelu")
    if case == "C4-H-SGD-PLAIN-DIGITS":
        return Program(digits_flat(seed), mlp([64, 64, 10], nn.ReLU), "MLP 64-64-10", optimizer="sgd", lr=0.1, epochs=20,
                       batch_size=32)
    if case == "C4-H-NESTEROV-CNN":
        return Program(digits_images(seed), BNCNN(), "CNN conv12-bn-conv24-bn-avgpool2, dropout 0.25", optimizer="nesterov",
                       lr=0.03, momentum=0.9, weight_decay=1e-4, epochs=6, batch_size=64)
    if case == "C4-H-RESMLP-CANCER":
        return Program(cancer(seed), ResMLP(30, 2), "residual MLP, LayerNorm + GELU, width 64", optimizer="adamw", lr=1e-3,
                       weight_decay=0.05, epochs=20, batch_size=32, activation="gelu")
    if case == "C4-H-HUBER-REG":
        return Program(housing_like(seed), mlp([8, 64, 64, 1], nn.ELU), "MLP 8-64-64-1 ELU", lr=2e-3, epochs=20, batch_size=32,
                       activation="elu", extra_config={"task": "regression", "loss": "SmoothL1Loss"})
    # faulty programs, existing codes in new settings
    if case == "C4-NL-PERM-DIGITS-DROPOUT":
        d = digits_flat(seed)
        return Program(d, mlp_bn_dropout([64, 128, 64, 10], p=0.2), "MLP 64-128-64-10, dropout 0.2", lr=1e-3, epochs=10,
                       batch_size=64, train_labels=_permuted(d.ytr, seed), val_labels=_permuted(d.yva, seed + 7))
    if case == "C4-LOM-SOFTMAX-GRU":
        return Program(digits_rows(seed), RowGRU(out_act=nn.Softmax(dim=1)), "GRU(8->48) over image rows, softmax head",
                       lr=5e-3, epochs=10, batch_size=64, activation="gru")
    if case == "C4-UNS-CONV1D":
        return Program(_sorted(signals(seed)), Conv1DNet(), "Conv1d 16-16, max-pool 4, linear head", lr=1e-3, epochs=10,
                       batch_size=32, shuffle=False)
    if case == "C4-LRL-MULTISTEP-CIRCLES":
        return Program(circles(seed), mlp([2, 32, 32, 2], nn.ReLU), "MLP 2-32-32-2", optimizer="sgd", lr=0.05, momentum=0.9,
                       epochs=20, batch_size=32, schedule="multistep_per_batch")
    if case == "C4-LRH-ADAMW-DIGITS":
        return Program(digits_flat(seed), mlp([64, 128, 10], nn.ReLU), "MLP 64-128-10", optimizer="adamw", lr=0.3,
                       weight_decay=1e-2, epochs=12, batch_size=64)
    if case == "C4-DIV-DIABETES-RAW":
        return Program(diabetes(seed, scale_target=False), mlp([10, 32, 1], nn.ReLU), "MLP 10-32-1", optimizer="sgd", lr=0.01,
                       momentum=0.9, epochs=20, batch_size=16, extra_config={"task": "regression"})
    if case == "C4-OR-DIGITS-SGD":
        return Program(digits_flat(seed), mlp([64, 64, 10], nn.ReLU), "MLP 64-64-10", optimizer="sgd", lr=0.05, momentum=0.9,
                       weight_decay=0.05, epochs=15, batch_size=32)
    if case == "C4-MC-WEAK4":
        return Program(imbalanced_weak(seed), mlp([12, 32, 4], nn.ReLU), "MLP 12-32-4", optimizer="sgd", lr=0.01, momentum=0.5,
                       epochs=15, batch_size=32)
    if case == "C4-VG-SIGMOID-MOONS":
        return Program(moons(seed), deep_sigmoid([2] + [32] * 8 + [2]), "MLP 2-32x8-2 sigmoid", optimizer="sgd", lr=0.05,
                       epochs=20, batch_size=32, activation="sigmoid")
    if case == "C4-DR-BIAS-DIGITS":
        return Program(digits_flat(seed), hidden_bias(mlp([64, 64, 64, 10], nn.ReLU), -5.0),
                       "MLP 64-64-64-10, hidden biases initialised to -5", lr=1e-3, epochs=12, batch_size=32)
    if case == "C4-BS1-IRIS":
        return Program(iris(seed), mlp([4, 16, 3], nn.ReLU), "MLP 4-16-3", lr=1e-3, epochs=6, batch_size=1)
    if case == "C4-UF-LINEAR-CIRCLES":
        return Program(circles(seed), nn.Sequential(OrderedDict(out=nn.Linear(2, 2))), "logistic regression 2-2", lr=1e-2,
                       epochs=20, batch_size=32, activation="none")
    if case == "C4-TVM-DIGITS-MLP":
        d = digits_flat(seed)
        raw = datasets.load_digits()
        _, raw_va, _, _ = _split(raw.data.astype(np.float32), raw.target, seed)
        return Program(d, mlp([64, 64, 10], nn.ReLU), "MLP 64-64-10", lr=1e-3, epochs=12, batch_size=32,
                       val_x=raw_va)  # validation pixels left at 0..16: the scaler was applied to train only
    raise KeyError(case)


_NOT_LR = ["lr_too_high", "lr_too_low", "divergence", "exploding_gradients"]
_HEALTHY = {
    "C4-H-DIGITS-DROPOUT": "MLP with dropout on digits, Adam, batch 64",
    "C4-H-CNN-BN-COSINE": "CNN with batchnorm and dropout on digits, SGD momentum + weight decay 5e-4, cosine schedule",
    "C4-H-WINE-ADAMW": "MLP on wine, AdamW weight decay 1e-2: converges within a few epochs, then sits low",
    "C4-H-CANCER-STEPLR": "MLP on breast cancer, SGD momentum, StepLR every 10 epochs",
    "C4-H-MOONS-ONECYCLE": "MLP on moons, SGD momentum with a one-cycle schedule stepped every batch (as documented)",
    "C4-H-CIRCLES-WARMUP": "tanh MLP on circles, Adam 1e-2 with a 3-epoch linear warmup",
    "C4-H-IRIS-SMALLBATCH": "MLP on iris (112 training samples), batch 8, Adam 1e-2",
    "C4-H-DIGITS-LARGEBATCH": "MLP on digits, batch 512 (3 steps an epoch), Adam 3e-3",
    "C4-H-CNN-LABELSMOOTH": "batchnorm CNN on digits with label smoothing 0.1 (the loss floors near 0.5 by design)",
    "C4-H-DIABETES-CLIP": "MLP regression on diabetes (noisy target), Adam, gradient clipping at 1",
    "C4-H-HOUSING-SGD": "MLP regression on a housing-like synthetic set, SGD momentum",
    "C4-H-IMBALANCED-LEARNED": "85/15 imbalanced but well-separated classes: the MLP learns both",
    "C4-H-GRU-ROWS": "GRU reading digit images row by row, Adam, clipping at 5",
    "C4-H-CONV1D-SIGNALS": "1-D conv net on noisy wave signals, AdamW with warmup then cosine",
    "C4-H-MOONS-FAST-SIT": "MLP on easy moons, Adam 1e-2: solved in ~2 epochs, then sits at a low loss for 28 more",
    "C4-H-CANCER-MILD-OVERFIT": "wide MLP on breast cancer, Adam: train acc reaches ~1.0, val stays ~0.96 (mild, healthy)",
    "C4-H-LOG-KERAS-EPOCH": "MLP on wine logged Keras-style: loss/accuracy/val_loss/val_accuracy once an epoch",
    "C4-H-LOG-EVERY10-PERCENT": "batchnorm CNN on digits, the loss as the mean of every 10 steps, accuracy in percent",
    "C4-H-LOG-NOWATCH": "MLP on breast cancer, SGD momentum, no watch(): loss and accuracies only",
    "C4-H-LOG-NOVAL": "MLP on circles, Adam, no validation metrics logged",
    "C4-H-LOG-REG-EPOCH": "MLP regression (housing-like), AdamW + cosine, loss/val_loss once an epoch",
    "C4-H-LOG-SHORT": "batchnorm CNN on digits, only 3 epochs",
    "C4-H-RMSPROP-BLOBS": "LeakyReLU MLP on 6 blobs, RMSprop",
    "C4-H-ADAGRAD-WINE": "GELU MLP on wine, Adagrad 0.05",
    "C4-H-SGD-PLAIN-DIGITS": "MLP on digits, plain SGD 0.1 without momentum",
    "C4-H-NESTEROV-CNN": "batchnorm CNN on digits, SGD Nesterov momentum",
    "C4-H-RESMLP-CANCER": "residual MLP with LayerNorm and GELU on breast cancer, AdamW 0.05",
    "C4-H-HUBER-REG": "ELU MLP regression (housing-like) with SmoothL1Loss, Adam",
}
CASES: Dict[str, dict] = {c: dict(fault="healthy: %s (control)" % f, source="AT normal", **_CONTROL) for c, f in _HEALTHY.items()}
# memorizes the training set (loss ~1e-4) while its val loss rises ~20% from its lowest: mild but real
CASES["C4-H-RESMLP-CANCER"] = dict(CASES["C4-H-RESMLP-CANCER"], allowed=["overfitting"])
CASES.update({
    "C4-NL-PERM-DIGITS-DROPOUT": dict(fault="labels permuted independently of the inputs (dropout MLP on digits)", **_faulty(
        ["no_learning"], _NOT_LR + ["dead_relu", "vanishing_gradients", "bad_initial_loss", "symmetric_init",
                                    "saturated_activations", "input_not_normalized", "majority_class", "train_val_mismatch"],
        ["overfitting", "loss_plateau", "underfitting"], "DFD data; UM wrong labels")),
    "C4-LOM-SOFTMAX-GRU": dict(fault="softmax on the GRU's logits before CrossEntropyLoss (digit rows)", **_faulty(
        ["loss_output_mismatch"], _NOT_LR + ["bad_initial_loss", "overfitting", "dead_relu", "vanishing_gradients",
                                             "no_learning", "train_val_mismatch"],
        ["loss_plateau", "underfitting"], "TDC redundant_softmax; UM softmax-before-loss")),
    "C4-UNS-CONV1D": dict(fault="signals sorted by class, shuffle=False (1-D conv net, Adam)", **_faulty(
        ["unshuffled_data"], ["lr_too_low", "bad_initial_loss", "symmetric_init", "vanishing_gradients", "dead_relu",
                              "saturated_activations", "input_not_normalized"],
        ["noisy_loss", "loss_plateau", "underfitting", "overfitting", "lr_too_high", "divergence", "exploding_gradients",
         "no_learning", "majority_class"], "TDC unshuffled data")),
    "C4-LRL-MULTISTEP-CIRCLES": dict(fault="MultiStepLR([5, 10], 0.1) stepped every batch: lr 100x smaller after 10 steps", **_faulty(
        ["lr_too_low"], ["lr_too_high", "divergence", "overfitting", "dead_relu", "symmetric_init", "vanishing_gradients",
                         "bad_initial_loss", "input_not_normalized"],
        ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause; DFD lr")),
    "C4-LRH-ADAMW-DIGITS": dict(fault="AdamW at lr 0.3 on a digits MLP: update ratios far above 1e-3", **_faulty(
        ["lr_too_high"], ["lr_too_low", "vanishing_gradients", "overfitting", "symmetric_init", "bad_initial_loss",
                          "input_not_normalized", "unshuffled_data"],
        ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning", "exploding_gradients",
         "majority_class"], "AT oscillating loss; DFD lr")),
    "C4-DIV-DIABETES-RAW": dict(fault="regression on raw diabetes targets (25..346), SGD momentum: the loss explodes", **_faulty(
        ["divergence"], ["lr_too_low", "vanishing_gradients", "overfitting", "underfitting", "symmetric_init",
                         "input_not_normalized"],
        ["lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "loss_plateau", "bad_initial_loss"],
        "AT EG (unscaled target); DD numerical errors")),
    "C4-OR-DIGITS-SGD": dict(fault="weight decay 0.05 with SGD momentum 0.9 on a digits MLP", **_faulty(
        ["over_regularization"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "bad_initial_loss",
                                  "symmetric_init", "input_not_normalized"],
        ["underfitting", "loss_plateau", "lr_too_low", "dead_relu", "vanishing_gradients", "no_learning"],
        "TDC over_regularization; DEF Regularization")),
    "C4-MC-WEAK4": dict(fault="88 % of the data in one of 4 classes, weak features: the MLP predicts the majority", **_faulty(
        ["majority_class"], ["bad_initial_loss", "overfitting", "divergence", "lr_too_high", "dead_relu",
                             "input_not_normalized", "symmetric_init", "exploding_gradients"],
        ["loss_plateau", "lr_too_low", "underfitting", "no_learning"], "TDC unbalanced_data; SMD class_imbalance")),
    "C4-VG-SIGMOID-MOONS": dict(fault="8 sigmoid hidden layers on moons, SGD: gradients vanish towards the input", **_faulty(
        ["vanishing_gradients"], ["dead_relu", "divergence", "lr_too_high", "bad_initial_loss", "input_not_normalized",
                                  "symmetric_init", "overfitting", "exploding_gradients"],
        ["loss_plateau", "underfitting", "no_learning", "lr_too_low", "saturated_activations"], "AT VG; TDC vanishing")),
    "C4-DR-BIAS-DIGITS": dict(fault="hidden ReLU biases initialised to -5 (digits MLP): most units dead from the start", **_faulty(
        ["dead_relu"], ["saturated_activations", "divergence", "lr_too_high", "symmetric_init", "overfitting",
                        "input_not_normalized", "exploding_gradients"],
        ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients", "lr_too_low", "bad_initial_loss", "majority_class"],
        "AT DR; TDC dead units")),
    "C4-BS1-IRIS": dict(fault="batch size 1 (per-sample losses), Adam on iris", **_faulty(
        ["noisy_loss"], ["dead_relu", "divergence", "lr_too_low", "vanishing_gradients", "symmetric_init",
                         "bad_initial_loss", "overfitting", "exploding_gradients", "unshuffled_data"],
        ["lr_too_high"], "AT OL; DFD batch size")),
    "C4-UF-LINEAR-CIRCLES": dict(fault="logistic regression on circles: a linear model cannot separate them", **_faulty(
        ["underfitting"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "symmetric_init",
                           "input_not_normalized", "dead_relu", "saturated_activations", "over_regularization"],
        # a linear model on circles sits at chance: "nothing learned" is also a fair reading
        ["loss_plateau", "lr_too_low", "bad_initial_loss", "no_learning"], "DEF model capacity; DFD layer")),
    "C4-TVM-DIGITS-MLP": dict(fault="validation pixels left at 0..16 while training inputs are standardised (MLP)", **_faulty(
        ["train_val_mismatch"], ["overfitting", "divergence", "lr_too_high", "lr_too_low", "input_not_normalized",
                                 "bad_initial_loss", "dead_relu", "vanishing_gradients", "no_learning"],
        [], "TDC normalisation family (pipeline mismatch)")),
})


def label(case: str, seed: int) -> dict:
    c = dict(CASES[case])
    out = {"case": case, "seed": seed, "fault": c["fault"], "must": c["must"]}
    out["must_not"] = [x for x in ALL_CODES if x not in c["allowed"]] if c["control"] else c["must_not"]
    out.update(allowed=c["allowed"], control=c["control"], source=c["source"])
    return checked_label(case, out)


if __name__ == "__main__":
    name, s = sys.argv[1], int(sys.argv[2])
    result = run(name, s, build(name, s))
    print(name, s, " ".join("%s=%.4g" % kv for kv in result.items()), flush=True)

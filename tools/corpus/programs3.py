"""corpus3: the HELD-OUT programs. Rules must not be tuned on them (tests/fixtures/corpus3/README.md).

Same recorder, label format and replay as corpus2 (programs.py), but other data sets (many-class
make_classification, covtype-like tabular, 1-D signals, digits upsampled to 16x16, bag-of-words
counts, a california-like regression), other optimizers (RMSprop, Adagrad, SGD Nesterov, AdamW),
other architectures (residual MLP, BatchNorm, dropout, GELU/LeakyReLU, Conv1d, GRU, deeper nets) and
other logging habits (loss every 2-5 steps, evaluation twice an epoch, no val/loss, no num_classes or
batch_size in the config, watch every 2-10 steps).

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs3.py C3-H-RESMLP 0
Record all:    PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs3 --seeds 0,1
"""

from __future__ import annotations

import math
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


# ---- data -------------------------------------------------------------------------------------

def many_class(seed, classes=8, n=1600, sep=1.5, weights=None, informative=10, name=None):
    x, y = datasets.make_classification(n_samples=n, n_features=20, n_informative=informative, n_redundant=4,
                                        n_classes=classes, n_clusters_per_class=1, class_sep=sep, weights=weights,
                                        flip_y=0.0, random_state=100 + seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, name or "make_classification, %d classes, 20 features, standardised" % classes, classes)


def covtype_raw(seed, n=2000):
    """Covtype-like: elevation in metres, distances in the thousands, slopes in degrees, 0/1 soil flags."""
    r = np.random.RandomState(200 + seed)
    y = r.randint(0, 4, n)
    elev = 2400 + 450 * y + r.normal(0, 200, n)
    aspect = r.uniform(0, 360, n)
    slope = r.gamma(3, 4, n) + 2 * y
    hyd = np.abs(r.normal(200 + 60 * (y % 2), 150, n))
    road = np.abs(r.normal(2000 + 500 * (y == 2), 1200, n))
    fire = np.abs(r.normal(1800 - 300 * (y == 3), 1100, n))
    shade = r.normal(200 - 10 * y, 25, n)
    soil = (r.uniform(0, 1, (n, 8)) < 0.15 + 0.15 * (np.arange(8)[None, :] % 4 == y[:, None])).astype(np.float32)
    x = np.column_stack([elev, aspect, slope, hyd, road, fire, shade, soil]).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed)
    return Data(xtr, ytr, xva, yva, "covtype-like tabular (elevation, distances, soil flags), raw", 4)


def covtype(seed):
    d = covtype_raw(seed)
    xtr, xva = _standardise(d.xtr, d.xva)
    return Data(xtr, d.ytr, xva, d.yva, "covtype-like tabular, standardised", 4)


def signals(seed, n=1200, length=48):
    """1-D signals, 4 classes: sine, square, sawtooth, noise bursts, random frequency, phase and gain."""
    r = np.random.RandomState(300 + seed)
    y = r.randint(0, 4, n)
    t = np.arange(length)[None, :]
    f = r.uniform(0.05, 0.15, (n, 1))
    ph = r.uniform(0, 2 * np.pi, (n, 1))
    base = np.sin(2 * np.pi * f * t + ph)
    sq = np.sign(base)
    saw = 2 * ((f * t + ph / (2 * np.pi)) % 1.0) - 1
    burst = r.normal(0, 1, (n, length)) * (np.abs(base) > 0.7)
    x = np.where((y == 0)[:, None], base, np.where((y == 1)[:, None], sq, np.where((y == 2)[:, None], saw, burst)))
    x = x * r.uniform(0.5, 1.5, (n, 1)) + r.normal(0, 0.3, (n, length))
    x = x.astype(np.float32)[:, None, :]
    xtr, xva, ytr, yva = _split(x, y, seed)
    return Data(xtr, ytr, xva, yva, "synthetic 1-D signals (sine/square/sawtooth/bursts), 48 samples", 4)


def digits16(seed):
    d = datasets.load_digits()
    x = np.kron(d.images / 16.0, np.ones((2, 2))).astype(np.float32)[:, None]
    xtr, xva, ytr, yva = _split(x, d.target, seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "sklearn digits upsampled to 16x16, standardised", 10)


def bow_counts(seed, n=1500, vocab=100, classes=5, doc_len=60, weights=None, topic_strength=2.5):
    r = np.random.RandomState(400 + seed)
    p = weights if weights is not None else [1.0 / classes] * classes
    y = r.choice(classes, n, p=p)
    base = r.dirichlet(np.ones(vocab) * 5.0)
    topics = []
    for _ in range(classes):
        t = base.copy()
        t[r.choice(vocab, 15, replace=False)] *= topic_strength
        topics.append(t / t.sum())
    x = np.stack([r.multinomial(doc_len, topics[c]) for c in y]).astype(np.float32)
    return x, y


def bow(seed, **kw):
    x, y = bow_counts(seed, **kw)
    xtr, xva, ytr, yva = _split(x, y, seed)
    xtr, xva = np.log1p(xtr), np.log1p(xva)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr.astype(np.float32), ytr, xva.astype(np.float32), yva, "bag-of-words counts (100 words), log1p, standardised",
                int(y.max()) + 1)


def california(seed, n=1600, target_scale=1.0, standardise_y=True):
    r = np.random.RandomState(500 + seed)
    x = r.normal(0, 1, (n, 8))
    y = (2.0 * np.tanh(x[:, 0]) + 0.8 * x[:, 1] * x[:, 2] + np.sin(2 * x[:, 3]) + 0.5 * x[:, 4] ** 2
         + 0.3 * r.normal(0, 1, n))
    y = y * target_scale
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    if standardise_y:
        mu, sd = ytr.mean(), ytr.std()
        ytr, yva = (ytr - mu) / sd, (yva - mu) / sd
    return Data(xtr, ytr.astype(np.float32), xva, yva.astype(np.float32), "california-like regression (8 features)", None)


# ---- models -----------------------------------------------------------------------------------

def mlp(sizes: List[int], act: Callable[[], nn.Module], out_act: Optional[nn.Module] = None, bn=False,
        dropout=0.0) -> nn.Module:
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    for i in range(len(sizes) - 2):
        layers["fc%d" % (i + 1)] = nn.Linear(sizes[i], sizes[i + 1])
        if bn:
            layers["bn%d" % (i + 1)] = nn.BatchNorm1d(sizes[i + 1])
        layers["act%d" % (i + 1)] = act()
        if dropout:
            layers["drop%d" % (i + 1)] = nn.Dropout(dropout)
    layers["out"] = nn.Linear(sizes[-2], sizes[-1])
    if out_act is not None:
        layers["out_act"] = out_act
    return nn.Sequential(layers)


class ResBlock(nn.Module):
    def __init__(self, width, act=nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.act1 = act()
        self.fc2 = nn.Linear(width, width)
        self.act2 = act()

    def forward(self, x):
        return self.act2(x + self.fc2(self.act1(self.fc1(x))))


class ResMLP(nn.Module):
    def __init__(self, d_in, width, blocks, d_out, act=nn.GELU):
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.act0 = act()
        self.blocks = nn.Sequential(*[ResBlock(width, act) for _ in range(blocks)])
        self.out = nn.Linear(width, d_out)

    def forward(self, x):
        return self.out(self.blocks(self.act0(self.inp(x))))


class Conv1dNet(nn.Module):
    def __init__(self, classes=4, width=16, act=nn.ReLU, out_act: Optional[nn.Module] = None):
        super().__init__()
        self.conv1 = nn.Conv1d(1, width, 5, padding=2)
        self.act1 = act()
        self.conv2 = nn.Conv1d(width, width, 5, padding=2)
        self.act2 = act()
        self.pool = nn.AdaptiveAvgPool1d(4)
        self.fc = nn.Linear(width * 4, 32)
        self.act3 = act()
        self.out = nn.Linear(32, classes)
        self.out_act = out_act

    def forward(self, x):
        x = self.pool(self.act2(self.conv2(self.act1(self.conv1(x)))))
        x = self.out(self.act3(self.fc(x.flatten(1))))
        return self.out_act(x) if self.out_act is not None else x


class GRUNet(nn.Module):
    def __init__(self, classes=4, hidden=24):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 32)
        self.act = nn.ReLU()
        self.out = nn.Linear(32, classes)

    def forward(self, x):
        _, h = self.gru(x.transpose(1, 2))
        return self.out(self.act(self.fc(h[-1])))


class BNCNN(nn.Module):
    def __init__(self, classes=10, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.LeakyReLU(0.1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.act2 = nn.LeakyReLU(0.1)
        self.pool2 = nn.MaxPool2d(2)
        self.out = nn.Linear(2 * width * 16, classes)

    def forward(self, x):
        x = self.pool1(self.act1(self.bn1(self.conv1(x))))
        x = self.pool2(self.act2(self.bn2(self.conv2(x))))
        return self.out(x.flatten(1))


class WrongLeaky(torch.autograd.Function):
    """A hand-written LeakyReLU whose backward uses the wrong slope on the negative side (1 instead of 0.1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.1 * x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, g, 1.0 * g)


class WrongLeakyModule(nn.Module):
    def forward(self, x):
        return WrongLeaky.apply(x)


# ---- the training loop -------------------------------------------------------------------------

@dataclass
class Program:
    data: Data
    model: nn.Module
    optimizer: str = "adam"  # adam, adamw, rmsprop, adagrad, sgd, nesterov
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    epochs: int = 10
    batch_size: int = 32
    shuffle: bool = True
    loss: str = "CrossEntropyLoss"
    activation: str = "relu"
    architecture: str = ""
    log_every: int = 1  # train/loss every k steps
    evals_per_epoch: int = 1
    log_val_loss: bool = True
    log_train_acc: bool = True
    config_num_classes: bool = True
    config_batch_size: bool = True
    watch_every: int = 5
    label_stats: bool = False
    schedule: Optional[str] = None  # "multistep_per_batch": MultiStepLR(milestones=[5, 10]) stepped every batch
    val_transform: Optional[Callable[[np.ndarray], np.ndarray]] = None
    train_labels: Optional[np.ndarray] = None
    relabel_every_epoch: bool = False  # the bug: a fresh label permutation each epoch, apart from the inputs
    gradcheck: bool = False
    train_limit: Optional[int] = None
    extra_config: Dict[str, object] = field(default_factory=dict)


def _optimizer(p: Program, params):
    if p.optimizer == "adam":
        return torch.optim.Adam(params, lr=p.lr, weight_decay=p.weight_decay), "Adam"
    if p.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=p.lr, weight_decay=p.weight_decay), "AdamW"
    if p.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay), "RMSprop"
    if p.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=p.lr, weight_decay=p.weight_decay), "Adagrad"
    if p.optimizer == "nesterov":
        return torch.optim.SGD(params, lr=p.lr, momentum=p.momentum or 0.9, nesterov=True, weight_decay=p.weight_decay), "SGD(nesterov)"
    return torch.optim.SGD(params, lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay), "SGD"


def run(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    xtr_np, ytr_np = d.xtr, (p.train_labels if p.train_labels is not None else d.ytr)
    if p.train_limit:
        xtr_np, ytr_np = xtr_np[:p.train_limit], ytr_np[:p.train_limit]
    xtr = torch.tensor(xtr_np, dtype=torch.float32)
    xva = torch.tensor(p.val_transform(d.xva) if p.val_transform is not None else d.xva, dtype=torch.float32)
    regression = d.num_classes is None
    lab_dtype = torch.float32 if regression else torch.long
    ytr = torch.tensor(ytr_np, dtype=lab_dtype)
    yva = torch.tensor(d.yva, dtype=lab_dtype)
    if regression:
        ytr, yva = ytr[:, None], yva[:, None]
    model = p.model
    opt, opt_name = _optimizer(p, model.parameters())
    sched = None
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    if p.schedule == "multistep_per_batch":  # milestones meant in epochs, stepped every batch: lr / 400 after 10 steps
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[5, 10], gamma=0.05)
    loss_fn = nn.MSELoss() if regression else nn.CrossEntropyLoss()

    config: Dict[str, object] = {
        "model": p.architecture, "dataset": d.name, "optimizer": opt_name, "lr": p.lr,
        "weight_decay": p.weight_decay, "epochs": p.epochs, "shuffle": p.shuffle,
        "loss": "MSELoss" if regression else p.loss, "activation": p.activation, "train_size": n,
        "val_size": len(xva), "seed": seed,
    }
    if p.momentum:
        config["momentum"] = p.momentum
    if p.config_batch_size:
        config["batch_size"] = p.batch_size
    if p.schedule:
        config["schedule"] = "MultiStepLR(milestones=[5, 10], gamma=0.05)"
    if not regression and p.config_num_classes:
        config["num_classes"] = d.num_classes
    config.update(p.extra_config)

    babysit.init(project="corpus3", name="%s-s%d" % (case.lower(), seed), config=config)
    babysit.log_input_stats(xtr)
    if p.label_stats and not regression:
        babysit.log_label_stats(ytr, num_classes=d.num_classes)
        babysit.log_label_stats(yva, split="val", num_classes=d.num_classes)
    babysit.watch(model, opt, every=p.watch_every)
    if p.gradcheck:
        babysit.gradcheck(model, xtr[:8], loss_fn=lambda out: loss_fn(out, ytr[:8]))
    g = torch.Generator().manual_seed(seed)
    step = 0
    summary: Dict[str, float] = {}
    eval_at = {int(round(nb * (k + 1) / p.evals_per_epoch)) - 1 for k in range(p.evals_per_epoch)}
    ycur = ytr
    for ep in range(p.epochs):
        if p.relabel_every_epoch:
            ycur = ytr[torch.randperm(n, generator=g)]
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        for b in range(nb):
            model.train()
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            out = model(xtr[idx])
            loss = loss_fn(out, ycur[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            if step % p.log_every == 0:
                babysit.log({"train/loss": loss.detach()}, step=step, epoch=ep + b / nb)
            if step == 0:
                summary["first_loss"] = float(loss)
            if b in eval_at:
                model.eval()
                with torch.no_grad():
                    ova = model(xva)
                    row: Dict[str, float] = {}
                    if p.log_val_loss or regression:
                        row["val/loss"] = float(loss_fn(ova, yva))
                    if not regression:
                        row["val/acc"] = float((ova.argmax(1) == yva).float().mean())
                        if p.log_train_acc:
                            row["train/acc"] = float((model(xtr).argmax(1) == ycur).float().mean())
                babysit.log(row, step=step, epoch=ep + (b + 1) / nb)
                summary.update(row)
            step += 1
    summary["last_loss"] = float(loss)
    babysit.finish()
    return summary


# ---- the cases --------------------------------------------------------------------------------

def _init(model: nn.Module, fn):
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                fn(name, m)
    return model


def _sorted(d: Data) -> Data:
    o = np.argsort(d.ytr, kind="stable")
    return Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, d.num_classes)


def build(case: str, seed: int) -> Program:
    torch.manual_seed(seed)
    np.random.seed(seed)
    # ---- healthy controls
    if case == "C3-H-RESMLP":
        return Program(many_class(seed), ResMLP(20, 64, 2, 8), optimizer="adamw", lr=1e-3, weight_decay=0.01, epochs=12,
                       activation="gelu", architecture="residual MLP 20-64x2 blocks-8", log_every=2, evals_per_epoch=2)
    if case == "C3-H-CONV1D":
        return Program(signals(seed), Conv1dNet(), optimizer="rmsprop", lr=1e-3, epochs=12,
                       architecture="Conv1d 16-16-pool4-fc32", log_val_loss=False)
    if case == "C3-H-GRU":
        return Program(signals(seed, n=800), GRUNet(), optimizer="adam", lr=1e-2, epochs=12,
                       architecture="GRU(24)-fc32", config_batch_size=False, log_every=3, watch_every=10)
    if case == "C3-H-BOW-DROPOUT":
        return Program(bow(seed), mlp([100, 128, 5], nn.ReLU, dropout=0.3), optimizer="nesterov", lr=0.02, momentum=0.9,
                       epochs=6, architecture="MLP 100-128-5, dropout 0.3", config_num_classes=False)
    if case == "C3-H-BNCNN16":
        return Program(digits16(seed), BNCNN(), optimizer="nesterov", lr=0.02, momentum=0.9, epochs=8,
                       activation="leaky_relu", architecture="CNN conv8-bn-pool-conv16-bn-pool, 16x16", log_every=2,
                       evals_per_epoch=2)
    if case == "C3-H-REG-GELU":
        return Program(california(seed), mlp([8, 64, 64, 1], nn.GELU), optimizer="adamw", lr=2e-3, weight_decay=1e-4,
                       epochs=20, activation="gelu", architecture="MLP 8-64-64-1", log_every=3, extra_config={"task": "regression"})
    if case == "C3-H-ADAGRAD-COV":
        return Program(covtype(seed), mlp([15, 64, 64, 4], lambda: nn.LeakyReLU(0.01)), optimizer="adagrad", lr=0.02, epochs=8,
                       activation="leaky_relu", architecture="MLP 15-64-64-4", label_stats=True)
    if case == "C3-H-DEEP-BN":
        return Program(many_class(seed), mlp([20, 64, 64, 64, 64, 64, 8], lambda: nn.LeakyReLU(0.1), bn=True),
                       optimizer="adam", lr=1e-3, epochs=10, activation="leaky_relu",
                       architecture="MLP 20-64x5-8 with BatchNorm", log_every=5, watch_every=2)
    if case == "C3-H-IMB-SEPARABLE":
        return Program(many_class(seed, classes=2, weights=[0.8, 0.2], sep=2.0), mlp([20, 32, 2], nn.ReLU), optimizer="adam",
                       lr=1e-3, epochs=15, architecture="MLP 20-32-2", label_stats=True)
    # ---- faults
    if case == "C3-DIV-REG-RAW":
        return Program(california(seed, target_scale=400.0, standardise_y=False), mlp([8, 64, 64, 1], nn.ReLU),
                       optimizer="nesterov", lr=0.01, momentum=0.9, epochs=10, architecture="MLP 8-64-64-1",
                       extra_config={"task": "regression"})
    if case == "C3-EXP-DEEP-INIT":
        m = _init(mlp([20] + [64] * 8 + [8], lambda: nn.LeakyReLU(0.1)),
                  lambda name, lay: (lay.weight.normal_(0, 2.2 / math.sqrt(lay.in_features)), lay.bias.zero_()))
        return Program(many_class(seed), m, optimizer="nesterov", lr=1e-3, momentum=0.9, epochs=8, activation="leaky_relu",
                       architecture="MLP 20-64x8-8, init N(0, 2.2/sqrt(fan_in))")
    if case == "C3-VG-DEEP-SIGMOID":
        return Program(many_class(seed), mlp([20] + [32] * 8 + [8], nn.Sigmoid), optimizer="nesterov", lr=0.01,
                       momentum=0.9, epochs=10, activation="sigmoid", architecture="MLP 20-32x8-8 sigmoid")
    if case == "C3-DR-CONV1D-BIAS":
        m = _init(Conv1dNet(), lambda name, lay: lay.bias.fill_(-3.0) if name != "out" else None)
        return Program(signals(seed), m, optimizer="adam", lr=1e-3, epochs=10, architecture="Conv1d 16-16-pool4-fc32, biases -3")
    if case == "C3-ST-SIGMOID-INIT":
        m = _init(mlp([20, 64, 64, 8], nn.Sigmoid), lambda name, lay: lay.weight.normal_(0, 1.5))
        return Program(many_class(seed), m, optimizer="rmsprop", lr=1e-3, epochs=10, activation="sigmoid",
                       architecture="MLP 20-64-64-8 sigmoid, init N(0, 1.5)")
    if case == "C3-LRH-RMSPROP":
        return Program(bow(seed), mlp([100, 128, 5], nn.ReLU), optimizer="rmsprop", lr=0.05, epochs=10,
                       architecture="MLP 100-128-5")
    if case == "C3-LRH-SGD-COV":
        return Program(covtype(seed), mlp([15, 64, 64, 4], nn.ReLU), optimizer="nesterov", lr=0.8, momentum=0.9, epochs=10,
                       architecture="MLP 15-64-64-4", log_every=2)
    if case == "C3-LRL-ADAGRAD":
        return Program(signals(seed), Conv1dNet(), optimizer="adagrad", lr=1e-5, epochs=10, architecture="Conv1d 16-16-pool4-fc32")
    if case == "C3-LRL-MULTISTEP-BATCH":
        return Program(many_class(seed), ResMLP(20, 64, 2, 8), optimizer="nesterov", lr=0.05, momentum=0.9, epochs=10,
                       activation="gelu", architecture="residual MLP 20-64x2 blocks-8", schedule="multistep_per_batch")
    if case == "C3-BS2-BOW":
        return Program(bow(seed, n=800), mlp([100, 64, 5], nn.ReLU), optimizer="rmsprop", lr=1e-3, epochs=4, batch_size=2,
                       architecture="MLP 100-64-5")
    if case == "C3-PLATEAU-SADDLE":
        m = _init(mlp([20, 32, 32, 32, 8], nn.Tanh), lambda name, lay: (lay.weight.normal_(0, 0.05), lay.bias.zero_()))
        return Program(many_class(seed), m, optimizer="sgd", lr=0.1, epochs=12, activation="tanh",
                       architecture="MLP 20-32x3-8 tanh, init N(0, 0.05)")
    if case == "C3-OF-RESMLP-SMALL":
        return Program(many_class(seed, n=2000, sep=0.8), ResMLP(20, 256, 3, 8), optimizer="adamw", lr=1e-3, epochs=60,
                       activation="gelu", architecture="residual MLP 20-256x3 blocks-8", train_limit=120, batch_size=16,
                       log_every=2)
    if case == "C3-OF-BOW-SMALL":
        return Program(bow(seed, topic_strength=2.0), mlp([100, 512, 512, 5], nn.ReLU), optimizer="adam", lr=1e-3, epochs=60,
                       architecture="MLP 100-512-512-5", train_limit=100, batch_size=20, evals_per_epoch=2)
    if case == "C3-UF-LINEAR-SIG":
        return Program(signals(seed), nn.Sequential(OrderedDict(flat=nn.Flatten(), out=nn.Linear(48, 4))), optimizer="adam",
                       lr=1e-3, epochs=15, activation="none", architecture="linear classifier 48-4 on raw signals")
    if case == "C3-UF-BOTTLENECK":
        return Program(many_class(seed), mlp([20, 2, 8], nn.ReLU), optimizer="adamw", lr=3e-3, epochs=15,
                       architecture="MLP 20-2-8 (2-unit hidden layer)", evals_per_epoch=2)
    if case == "C3-BIL-OUT-SCALE":
        m = _init(mlp([20, 64, 8], nn.ReLU), lambda name, lay: lay.weight.mul_(40.0) if name == "out" else None)
        return Program(many_class(seed), m, optimizer="adam", lr=1e-3, epochs=10,
                       architecture="MLP 20-64-8, output layer weights x40")
    if case == "C3-INN-COVTYPE":
        return Program(covtype_raw(seed), mlp([15, 64, 64, 4], nn.ReLU), optimizer="adam", lr=1e-3, epochs=10,
                       architecture="MLP 15-64-64-4 on raw features")
    if case == "C3-INN-BOW-RAW":
        x, y = bow_counts(seed, doc_len=400)
        xtr, xva, ytr, yva = _split(x * 25.0, y, seed)  # counts per 10,000 words, not scaled
        d = Data(xtr, ytr, xva, yva, "bag-of-words counts per 10k words, raw", 5)
        return Program(d, mlp([100, 64, 5], nn.Tanh), optimizer="nesterov", lr=0.01, momentum=0.9, epochs=10,
                       activation="tanh", architecture="MLP 100-64-5 tanh")
    if case == "C3-SYM-CONST":
        m = _init(mlp([20, 64, 64, 8], nn.ReLU), lambda name, lay: (lay.weight.fill_(0.05), lay.bias.zero_()))
        return Program(many_class(seed), m, optimizer="adam", lr=1e-3, epochs=10, architecture="MLP 20-64-64-8, all weights 0.05")
    if case == "C3-GC-WRONG-LEAKY":
        m = nn.Sequential(OrderedDict(fc1=nn.Linear(15, 32), act1=WrongLeakyModule(), out=nn.Linear(32, 4)))
        return Program(covtype(seed), m, optimizer="adam", lr=1e-3, epochs=8, activation="custom leaky_relu",
                       architecture="MLP 15-32-4 with a hand-written LeakyReLU", gradcheck=True)
    if case == "C3-OSF-RELABEL":
        return Program(many_class(seed), mlp([20, 128, 8], nn.ReLU), optimizer="adam", lr=1e-3, epochs=60, train_limit=32,
                       batch_size=8, architecture="MLP 20-128-8", relabel_every_epoch=True,
                       extra_config={"sanity": "overfit_tiny"})
    if case == "C3-OSF-DROPOUT-WD":
        return Program(bow(seed), mlp([100, 16, 5], nn.ReLU, dropout=0.9), optimizer="adamw", lr=1e-3, weight_decay=2.0,
                       epochs=40, train_limit=24, batch_size=8, architecture="MLP 100-16-5, dropout 0.9",
                       extra_config={"sanity": "overfit_tiny"})
    if case == "C3-NL-RELABEL-CONV1D":
        return Program(signals(seed), Conv1dNet(), optimizer="adamw", lr=1e-3, epochs=10, architecture="Conv1d 16-16-pool4-fc32",
                       relabel_every_epoch=True)
    if case == "C3-NL-WRONG-TARGETS":
        d = bow(seed)
        wrong = np.random.RandomState(900 + seed).randint(0, 5, len(d.ytr))  # targets read from another file
        yva = np.random.RandomState(901 + seed).randint(0, 5, len(d.yva))
        d = Data(d.xtr, d.ytr, d.xva, yva, d.name, 5)
        return Program(d, mlp([100, 64, 5], nn.ReLU), optimizer="rmsprop", lr=3e-4, epochs=10, architecture="MLP 100-64-5",
                       train_labels=wrong, log_every=2)
    if case == "C3-LOM-SIGMOID-REG":
        return Program(california(seed), mlp([8, 64, 64, 1], nn.GELU, nn.Sigmoid()), optimizer="adamw", lr=2e-3, epochs=20,
                       activation="gelu", architecture="MLP 8-64-64-1, sigmoid output", extra_config={"task": "regression"})
    if case == "C3-LOM-SOFTMAX-CONV1D":
        return Program(signals(seed), Conv1dNet(out_act=nn.Softmax(dim=1)), optimizer="rmsprop", lr=1e-3, epochs=12,
                       architecture="Conv1d 16-16-pool4-fc32, softmax output")
    if case == "C3-UNS-BOW":
        return Program(_sorted(bow(seed)), mlp([100, 64, 5], nn.ReLU), optimizer="rmsprop", lr=1e-3, epochs=8, shuffle=False,
                       architecture="MLP 100-64-5")
    if case == "C3-UNS-DIGITS16":
        return Program(_sorted(digits16(seed)), BNCNN(), optimizer="adamw", lr=1e-3, epochs=6, shuffle=False,
                       activation="leaky_relu", architecture="CNN conv8-bn-pool-conv16-bn-pool, 16x16", log_every=2)
    if case == "C3-TVM-DIGITS255":
        d = digits16(seed)
        dd = datasets.load_digits()
        raw = np.kron(dd.images * (255.0 / 16.0), np.ones((2, 2))).astype(np.float32)[:, None]
        _, raw_va, _, _ = _split(raw, dd.target, seed)
        d.xva = raw_va  # validation pixels left at 0..255; training images were scaled and standardised
        return Program(d, BNCNN(), optimizer="nesterov", lr=0.02, momentum=0.9, epochs=6, activation="leaky_relu",
                       architecture="CNN conv8-bn-pool-conv16-bn-pool, 16x16", log_every=2)
    if case == "C3-TVM-COVTYPE":
        d = covtype(seed)
        d.xva = covtype_raw(seed).xva  # the scaler was applied to the training split only
        return Program(d, mlp([15, 64, 4], nn.ReLU), optimizer="adagrad", lr=0.05, epochs=10, architecture="MLP 15-64-4",
                       evals_per_epoch=2)
    if case == "C3-OR-ADAMW":
        return Program(many_class(seed), mlp([20, 128, 8], nn.ReLU), optimizer="adamw", lr=3e-3, weight_decay=20.0, epochs=12,
                       architecture="MLP 20-128-8")
    if case == "C3-OR-NESTEROV-COV":
        return Program(covtype(seed), mlp([15, 64, 64, 4], nn.GELU), optimizer="nesterov", lr=0.02, momentum=0.9,
                       weight_decay=0.1, epochs=12, activation="gelu", architecture="MLP 15-64-64-4")
    if case == "C3-MC-MANY":
        return Program(many_class(seed, classes=6, weights=[0.85, 0.03, 0.03, 0.03, 0.03, 0.03], sep=0.3, informative=4),
                       mlp([20, 32, 6], nn.ReLU), optimizer="sgd", lr=0.01, epochs=15, architecture="MLP 20-32-6",
                       label_stats=True)
    if case == "C3-MC-BOW-BIN":
        return Program(bow(seed, classes=2, weights=[0.95, 0.05], topic_strength=1.15), mlp([100, 16, 2], nn.ReLU),
                       optimizer="adagrad", lr=0.005, epochs=12, architecture="MLP 100-16-2", config_num_classes=False)
    raise KeyError(case)


_CONTROL = dict(must=[], allowed=[], control=True, source="AT normal")


def _faulty(must, must_not, allowed=(), source=""):
    return dict(must=list(must), must_not=list(must_not), allowed=list(allowed), control=False, source=source)


_NOT_LR = ["lr_too_high", "lr_too_low", "divergence", "exploding_gradients"]
_NOT_INIT = ["symmetric_init", "bad_initial_loss", "input_not_normalized", "gradcheck_failed"]
CASES: Dict[str, dict] = {
    "C3-H-RESMLP": dict(fault="healthy residual GELU MLP, 8 classes, AdamW, loss every 2 steps, eval twice an epoch (control)", **_CONTROL),
    "C3-H-CONV1D": dict(fault="healthy Conv1d on 1-D signals, RMSprop, no val/loss logged (control)", **_CONTROL),
    "C3-H-GRU": dict(fault="healthy GRU on 1-D signals, Adam, no batch_size in the config, loss every 3 steps (control)", **_CONTROL),
    "C3-H-BOW-DROPOUT": dict(fault="healthy dropout MLP on bag-of-words, SGD Nesterov, no num_classes in the config (control)", **_CONTROL),
    "C3-H-BNCNN16": dict(fault="healthy BatchNorm LeakyReLU CNN on 16x16 digits, SGD Nesterov (control)", **_CONTROL),
    "C3-H-REG-GELU": dict(fault="healthy GELU MLP regression, AdamW, loss every 3 steps (control)", **_CONTROL),
    "C3-H-ADAGRAD-COV": dict(fault="healthy LeakyReLU MLP on standardised covtype-like data, Adagrad (control)", **_CONTROL),
    "C3-H-DEEP-BN": dict(fault="healthy 5-layer BatchNorm LeakyReLU MLP, Adam, loss every 5 steps, watch every 2 (control)", **_CONTROL),
    "C3-H-IMB-SEPARABLE": dict(fault="healthy MLP on an 80/20 binary task it separates well, label stats logged (control)", **_CONTROL),
    "C3-DIV-REG-RAW": dict(fault="regression targets in the hundreds, SGD Nesterov lr 0.01: the loss explodes", **_faulty(
        ["divergence"], ["lr_too_low", "vanishing_gradients", "overfitting", "underfitting", "symmetric_init",
                         "input_not_normalized", "saturated_activations", "unshuffled_data", "majority_class"],
        ["lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "loss_plateau", "bad_initial_loss", "no_learning",
         "loss_output_mismatch"], "AT EG (unscaled target); DD numerical errors")),
    "C3-EXP-DEEP-INIT": dict(fault="8 LeakyReLU layers initialised N(0, 2.2/sqrt(fan_in)): activations and gradients grow ~1.6x a layer", **_faulty(
        ["exploding_gradients"], ["lr_too_low", "vanishing_gradients", "overfitting", "symmetric_init", "input_not_normalized",
                                  "saturated_activations", "unshuffled_data", "majority_class"],
        ["divergence", "lr_too_high", "bad_initial_loss", "dead_relu", "noisy_loss", "loss_plateau", "underfitting",
         "no_learning"], "AT EG; DFD initialisation")),
    "C3-VG-DEEP-SIGMOID": dict(fault="8 sigmoid layers, SGD Nesterov: the gradient vanishes towards the input", **_faulty(
        ["vanishing_gradients"], ["dead_relu", "divergence", "lr_too_high", "bad_initial_loss", "input_not_normalized",
                                  "symmetric_init", "overfitting", "exploding_gradients", "unshuffled_data"],
        ["loss_plateau", "underfitting", "no_learning", "lr_too_low", "saturated_activations", "majority_class"],
        "AT VG; TDC vanishing")),
    "C3-DR-CONV1D-BIAS": dict(fault="Conv1d net with conv and hidden biases initialised to -3: ReLU units dead from the start", **_faulty(
        ["dead_relu"], ["saturated_activations", "divergence", "lr_too_high", "symmetric_init", "overfitting",
                        "input_not_normalized", "exploding_gradients", "unshuffled_data"],
        ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients", "lr_too_low", "bad_initial_loss",
         "majority_class"], "AT DR; TDC dead units")),
    "C3-ST-SIGMOID-INIT": dict(fault="sigmoid MLP initialised N(0, 1.5) on standardised inputs: units saturated at 0/1", **_faulty(
        ["saturated_activations"], ["dead_relu", "input_not_normalized", "divergence", "lr_too_high", "symmetric_init",
                                    "unshuffled_data", "exploding_gradients"],
        ["vanishing_gradients", "loss_plateau", "underfitting", "bad_initial_loss", "overfitting", "noisy_loss", "lr_too_low",
         "no_learning"], "AT saturated activations; TDC saturation")),
    "C3-LRH-RMSPROP": dict(fault="RMSprop at lr 0.05 on a bag-of-words MLP: update ratios far above 1e-3", **_faulty(
        ["lr_too_high"], ["lr_too_low", "vanishing_gradients", "symmetric_init", "input_not_normalized", "unshuffled_data",
                          "saturated_activations", "gradcheck_failed"],
        ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning", "exploding_gradients",
         "overfitting", "bad_initial_loss", "majority_class"], "AT oscillating loss; DFD lr")),
    "C3-LRH-SGD-COV": dict(fault="SGD Nesterov at lr 0.8 (momentum 0.9) on covtype-like data: loss oscillates, units die", **_faulty(
        ["lr_too_high"], ["lr_too_low", "vanishing_gradients", "symmetric_init", "input_not_normalized", "unshuffled_data",
                          "overfitting", "saturated_activations"],
        ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning", "exploding_gradients",
         "bad_initial_loss", "majority_class"], "AT oscillating loss; DFD lr")),
    "C3-LRL-ADAGRAD": dict(fault="Adagrad at lr 1e-5 on a Conv1d net: the loss barely moves", **_faulty(
        ["lr_too_low"], ["lr_too_high", "divergence", "overfitting", "dead_relu", "symmetric_init", "vanishing_gradients",
                         "bad_initial_loss", "input_not_normalized", "exploding_gradients", "unshuffled_data"],
        ["loss_plateau", "underfitting", "no_learning"], "AT slow convergence; DFD lr")),
    "C3-LRL-MULTISTEP-BATCH": dict(fault="MultiStepLR([5, 10], gamma=0.05) meant for epochs, stepped every batch: lr / 400 after 10 steps", **_faulty(
        ["lr_too_low"], ["divergence", "overfitting", "dead_relu", "symmetric_init", "vanishing_gradients",
                         "bad_initial_loss", "input_not_normalized", "unshuffled_data"],
        ["loss_plateau", "underfitting", "no_learning", "lr_too_high", "noisy_loss"], "DEF LR root cause; DFD lr")),
    "C3-BS2-BOW": dict(fault="batch size 2 (RMSprop) on bag-of-words: per-pair losses", **_faulty(
        ["noisy_loss"], ["dead_relu", "divergence", "lr_too_low", "vanishing_gradients", "symmetric_init",
                         "bad_initial_loss", "exploding_gradients", "unshuffled_data", "input_not_normalized"],
        ["lr_too_high", "overfitting"], "AT OL; DFD batch size")),
    "C3-PLATEAU-SADDLE": dict(fault="tanh MLP initialised N(0, 0.05), plain SGD: the loss sits at ln C on a saddle for long", **_faulty(
        ["loss_plateau"], ["dead_relu", "divergence", "lr_too_high", "input_not_normalized", "overfitting",
                           "exploding_gradients", "unshuffled_data", "saturated_activations", "bad_initial_loss"],
        ["vanishing_gradients", "underfitting", "no_learning", "lr_too_low", "symmetric_init", "majority_class"],
        "AT slow convergence; DD plateau")),
    "C3-OF-RESMLP-SMALL": dict(fault="wide residual MLP on 120 training examples for 60 epochs: memorises, val loss climbs", **_faulty(
        ["overfitting"], ["underfitting", "lr_too_low", "divergence", "vanishing_gradients", "symmetric_init",
                          "input_not_normalized", "no_learning", "majority_class", "unshuffled_data", "over_regularization"],
        ["loss_plateau", "noisy_loss", "train_val_mismatch"], "TDC overfitting; DEF model capacity")),
    "C3-OF-BOW-SMALL": dict(fault="512-unit MLP on 100 bag-of-words documents for 60 epochs: memorises", **_faulty(
        ["overfitting"], ["underfitting", "lr_too_low", "divergence", "vanishing_gradients", "symmetric_init",
                          "input_not_normalized", "no_learning", "majority_class", "unshuffled_data", "over_regularization"],
        ["loss_plateau", "noisy_loss", "train_val_mismatch"], "TDC overfitting; DEF model capacity")),
    "C3-UF-LINEAR-SIG": dict(fault="a linear classifier on raw signals: cannot tell sine/square/sawtooth apart", **_faulty(
        ["underfitting"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "symmetric_init",
                           "input_not_normalized", "dead_relu", "saturated_activations", "unshuffled_data"],
        ["loss_plateau", "lr_too_low", "no_learning", "bad_initial_loss"], "DEF model capacity; DFD layer")),
    "C3-UF-BOTTLENECK": dict(fault="a 2-unit hidden layer for 8 classes: train and val accuracy capped together", **_faulty(
        ["underfitting"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "symmetric_init",
                           "input_not_normalized", "no_learning", "unshuffled_data"],
        ["loss_plateau", "lr_too_low", "dead_relu", "bad_initial_loss"], "DEF model capacity; DFD layer")),
    "C3-BIL-OUT-SCALE": dict(fault="output layer weights scaled x40: the first loss is far above ln 8", **_faulty(
        ["bad_initial_loss"], ["lr_too_low", "vanishing_gradients", "symmetric_init", "input_not_normalized",
                               "unshuffled_data", "no_learning", "saturated_activations"],
        ["divergence", "lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "overfitting", "loss_plateau",
         "underfitting"], "TDC wrong init; cs231n initial loss")),
    "C3-INN-COVTYPE": dict(fault="covtype-like features fed raw (elevation ~2500, distances ~2000, 0/1 flags)", **_faulty(
        ["input_not_normalized"], ["symmetric_init", "vanishing_gradients", "unshuffled_data", "saturated_activations",
                                   "over_regularization", "gradcheck_failed"],
        ["divergence", "lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "bad_initial_loss", "loss_plateau",
         "underfitting", "overfitting", "no_learning", "majority_class"], "TDC data not normalised; DFD preprocessing")),
    "C3-INN-BOW-RAW": dict(fault="bag-of-words counts (per 10k words) fed raw to a tanh MLP", **_faulty(
        ["input_not_normalized"], ["symmetric_init", "unshuffled_data", "over_regularization", "gradcheck_failed", "dead_relu"],
        # raw counts saturate the tanh units, whose gradients then vanish: consequences, not the fault
        ["divergence", "lr_too_high", "exploding_gradients", "saturated_activations", "vanishing_gradients", "noisy_loss", "bad_initial_loss",
         "loss_plateau", "underfitting", "overfitting", "no_learning", "majority_class"],
        "TDC data not normalised; DFD preprocessing")),
    "C3-SYM-CONST": dict(fault="every weight initialised to 0.05: all hidden units compute the same thing", **_faulty(
        ["symmetric_init"], ["input_not_normalized", "lr_too_high", "divergence", "overfitting", "unshuffled_data",
                             "exploding_gradients", "gradcheck_failed"],
        ["underfitting", "loss_plateau", "no_learning", "dead_relu", "bad_initial_loss", "vanishing_gradients",
         "lr_too_low", "majority_class"], "TDC symmetric weights; AT wrong init")),
    "C3-GC-WRONG-LEAKY": dict(fault="hand-written LeakyReLU whose backward uses slope 1 on the negative side", **_faulty(
        ["gradcheck_failed"], ["input_not_normalized", "symmetric_init", "divergence", "lr_too_high", "unshuffled_data",
                               "overfitting", "majority_class"],
        ["underfitting", "loss_plateau", "dead_relu", "vanishing_gradients", "lr_too_low"], "TDC gradient check; UM custom op")),
    "C3-OSF-RELABEL": dict(fault="overfit-a-tiny-subset sanity run whose loader re-permutes labels each epoch: never fits", **_faulty(
        ["overfit_sanity_failed"], ["input_not_normalized", "symmetric_init", "divergence", "lr_too_high", "overfitting",
                                    "exploding_gradients", "saturated_activations"],
        ["no_learning", "underfitting", "loss_plateau", "noisy_loss", "lr_too_low", "unshuffled_data", "majority_class"],
        "cs231n sanity check; DFD data")),
    "C3-OSF-DROPOUT-WD": dict(fault="overfit-a-tiny-subset sanity run with dropout 0.9 and AdamW decay 2.0: cannot fit 24 documents", **_faulty(
        ["overfit_sanity_failed"], ["input_not_normalized", "symmetric_init", "divergence", "lr_too_high", "overfitting",
                                    "exploding_gradients", "unshuffled_data"],
        ["underfitting", "loss_plateau", "noisy_loss", "lr_too_low", "over_regularization", "no_learning", "dead_relu",
         "majority_class"], "cs231n sanity check; TDC over_regularization")),
    "C3-NL-RELABEL-CONV1D": dict(fault="labels re-permuted every epoch apart from the signals (Conv1d, AdamW)", **_faulty(
        ["no_learning"], _NOT_LR + ["dead_relu", "vanishing_gradients", "bad_initial_loss", "symmetric_init",
                                    "saturated_activations", "input_not_normalized", "majority_class", "unshuffled_data"],
        ["loss_plateau", "underfitting", "overfitting", "noisy_loss"], "DFD data; UM wrong labels")),
    "C3-NL-WRONG-TARGETS": dict(fault="targets read from another file: random labels unrelated to the documents", **_faulty(
        ["no_learning"], _NOT_LR + ["dead_relu", "vanishing_gradients", "bad_initial_loss", "symmetric_init",
                                    "saturated_activations", "input_not_normalized", "unshuffled_data"],
        ["loss_plateau", "underfitting", "overfitting", "noisy_loss", "majority_class"], "DFD data; UM wrong labels")),
    "C3-LOM-SIGMOID-REG": dict(fault="sigmoid on a regression output whose targets are standardised (outside 0..1)", **_faulty(
        ["loss_output_mismatch"], _NOT_LR + ["overfitting", "vanishing_gradients", "no_learning", "symmetric_init",
                                             "input_not_normalized", "unshuffled_data", "dead_relu"],
        ["loss_plateau", "underfitting", "saturated_activations", "bad_initial_loss"], "DFD act; AT last-layer activation")),
    "C3-LOM-SOFTMAX-CONV1D": dict(fault="softmax output before CrossEntropyLoss (Conv1d on signals, RMSprop)", **_faulty(
        ["loss_output_mismatch"], _NOT_LR + ["bad_initial_loss", "overfitting", "vanishing_gradients", "no_learning",
                                             "symmetric_init", "input_not_normalized", "unshuffled_data"],
        ["loss_plateau", "underfitting", "dead_relu"], "TDC redundant_softmax; UM softmax-before-loss")),
    "C3-UNS-BOW": dict(fault="bag-of-words training set sorted by label, shuffle=False (RMSprop)", **_faulty(
        ["unshuffled_data"], ["lr_too_low", "bad_initial_loss", "symmetric_init", "vanishing_gradients",
                              "saturated_activations", "input_not_normalized", "gradcheck_failed"],
        ["noisy_loss", "loss_plateau", "underfitting", "overfitting", "lr_too_high", "divergence", "exploding_gradients",
         "no_learning", "majority_class", "dead_relu"], "TDC unshuffled data; DFD data order")),
    "C3-UNS-DIGITS16": dict(fault="16x16 digits sorted by label, shuffle=False (BatchNorm CNN, AdamW)", **_faulty(
        ["unshuffled_data"], ["lr_too_low", "bad_initial_loss", "symmetric_init", "vanishing_gradients",
                              "saturated_activations", "input_not_normalized", "gradcheck_failed"],
        ["noisy_loss", "loss_plateau", "underfitting", "overfitting", "lr_too_high", "divergence", "exploding_gradients",
         "no_learning", "majority_class", "dead_relu", "train_val_mismatch"], "TDC unshuffled data; DFD data order")),
    "C3-TVM-DIGITS255": dict(fault="validation pixels left at 0..255 while training images were scaled and standardised", **_faulty(
        ["train_val_mismatch"], ["divergence", "lr_too_high", "lr_too_low", "input_not_normalized", "bad_initial_loss",
                                 "vanishing_gradients", "no_learning", "symmetric_init", "unshuffled_data"],
        ["overfitting"], "TDC normalisation family (pipeline mismatch)")),
    "C3-TVM-COVTYPE": dict(fault="validation features not standardised (scaler fitted and applied to train only)", **_faulty(
        ["train_val_mismatch"], ["divergence", "lr_too_high", "lr_too_low", "input_not_normalized", "bad_initial_loss",
                                 "vanishing_gradients", "no_learning", "symmetric_init", "unshuffled_data"],
        ["overfitting"], "TDC normalisation family (pipeline mismatch)")),
    "C3-OR-ADAMW": dict(fault="AdamW with weight_decay 20 at lr 3e-3: weights shrink ~6 % a step, accuracy capped", **_faulty(
        ["over_regularization"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "bad_initial_loss",
                                  "symmetric_init", "input_not_normalized", "unshuffled_data"],
        ["underfitting", "loss_plateau", "lr_too_low", "dead_relu", "vanishing_gradients", "no_learning", "majority_class"],
        "TDC over_regularization; DEF Regularization")),
    "C3-OR-NESTEROV-COV": dict(fault="SGD Nesterov with weight_decay 0.1 on covtype-like data: weights pulled to 0, chance accuracy", **_faulty(
        ["over_regularization"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "bad_initial_loss",
                                  "symmetric_init", "input_not_normalized", "unshuffled_data"],
        ["underfitting", "loss_plateau", "lr_too_low", "dead_relu", "vanishing_gradients", "no_learning", "majority_class"],
        "TDC over_regularization; DEF Regularization")),
    "C3-MC-MANY": dict(fault="85 % of the data in one of 6 classes, weak features: the MLP predicts the majority class", **_faulty(
        ["majority_class"], ["bad_initial_loss", "overfitting", "divergence", "lr_too_high", "dead_relu",
                             "input_not_normalized", "symmetric_init", "exploding_gradients", "unshuffled_data"],
        ["loss_plateau", "lr_too_low", "underfitting", "no_learning"], "TDC unbalanced_data; SMD class_imbalance")),
    "C3-MC-BOW-BIN": dict(fault="95/5 binary bag-of-words with weak signal, Adagrad, no num_classes: predicts the majority", **_faulty(
        ["majority_class"], ["bad_initial_loss", "overfitting", "divergence", "lr_too_high", "dead_relu",
                             "input_not_normalized", "symmetric_init", "exploding_gradients", "unshuffled_data"],
        ["loss_plateau", "lr_too_low", "underfitting", "no_learning"], "TDC unbalanced_data; SMD class_imbalance")),
}


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

"""corpus10: a held-out set of faulty programs and healthy controls (after corpus9).

Written by someone who had not read the rules (lib/diagnostics, docs/diagnostics.md, their tests,
the known-gaps files) nor programs3/5-9, from issue #10's fault kinds, docs/api.md's alert list,
the SDK and its drop-ins, and the other corpora's READMEs (to go elsewhere). 12 healthy controls and
23 faulty programs; one training loop (`train`) with hooks for the optimizer, the scheduler and when
it steps, the loss, a per-batch and a per-epoch hook (where a data or schedule bug lives), a penalty,
early stopping, and the logging surface (babysit, babysit.wandb, babysit.tensorboard, babysit.trackio)
with its habits (key names, how often, with or without step, config or none).

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs10.py C10-H-FROZEN 0
Trace it:      PROGRAMS10_TRACE=1 BABYSIT_MODE=disabled PYTHONPATH=sdk/python /usr/bin/python3 \
                   tools/corpus/programs10.py C10-H-FROZEN 0      (per-epoch numbers on stderr)
Record them:   PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs10 --seeds 0,1
Labels (``CASES``) were written from each program and its own printed numbers, never from what
babysit raises.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

import numpy as np
import torch
import torch.nn as nn
from sklearn import datasets

import babysit
from programs import ALL_CODES, Data, _split, _standardise, label_of, main

torch.set_num_threads(1)
TRACE = os.environ.get("PROGRAMS10_TRACE") == "1"


# ---- data -------------------------------------------------------------------------------------

def digits_pooled(seed):
    """Digits average-pooled to 4x4 (16 features), standardised with one mean and std."""
    d = datasets.load_digits()
    x = d.images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16).astype(np.float32) / 16.0
    xtr, xva, ytr, yva = _split(x, d.target, seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "digits pooled to 4x4", 10)


def digits_unit(seed):
    """Digits as 64 pixels in [0, 1] (the usual /16 scaling, not centred)."""
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    return Data(xtr, ytr, xva, yva, "digits 64 px in [0,1]", 10)


def digits_std(seed):
    d = digits_unit(seed)
    mu, sd = d.xtr.mean(), d.xtr.std()
    return Data((d.xtr - mu) / sd, d.ytr, (d.xva - mu) / sd, d.yva, "digits 64 px standardised", 10)


def tab(loader, seed, name):
    b = loader()
    xtr, xva, ytr, yva = _split(b.data.astype(np.float32), b.target, seed)
    return xtr, xva, ytr, yva


def trends(seed, n=900, length=40):
    """Noisy series that trend up, down or stay flat (3 classes), shape N, 1, L."""
    r = np.random.RandomState(seed + 10)
    y = r.randint(0, 3, n)
    slope = np.array([0.08, -0.08, 0.0])[y] * r.uniform(0.6, 1.4, n)
    t = np.arange(length, dtype=np.float32)
    walk = np.cumsum(0.08 * r.randn(n, length), axis=1)
    x = slope[:, None] * t[None, :] + walk + r.randn(n, 1)
    xtr, xva, ytr, yva = _split(x.astype(np.float32)[:, None], y, seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "trend up/down/flat series", 3)


def sign_sequences(seed, n=1200, length=12):
    """Sequences of 12 values in [-1, 1]; class 1 when their sum is positive."""
    r = np.random.RandomState(seed + 20)
    x = r.uniform(-1, 1, (n, length, 1)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    xtr, xva, ytr, yva = _split(x, y, seed)
    return Data(xtr, ytr, xva, yva, "sign-of-sum sequences", 2)


def classif(seed, n=1500, classes=5, informative=6, features=12, weights=None, sep=1.0, flip=0.0):
    x, y = datasets.make_classification(n_samples=n, n_features=features, n_informative=informative, n_redundant=2,
                                        n_classes=classes, n_clusters_per_class=1, weights=weights, class_sep=sep,
                                        flip_y=flip, random_state=seed + 30)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "make_classification", classes)


def diabetes_std(seed):
    b = datasets.load_diabetes()
    xtr, xva, ytr, yva = _split(b.data.astype(np.float32), b.target.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "diabetes", None), (mu, sd, yva)


def low_rank_reg(seed, n=1000, features=30):
    r = np.random.RandomState(seed + 40)
    x = datasets.make_low_rank_matrix(n_samples=n, n_features=features, effective_rank=5, random_state=seed + 40)
    x = (x / x.std()).astype(np.float32)
    w = r.randn(features, 3)
    y = (np.tanh(x @ w) + 0.1 * r.randn(n, 3)).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "low-rank inputs, 3 targets", None)


def small_scale_reg(seed, n=1200):
    """Sparse-uncorrelated regression whose target is expressed in thousands (values ~1e-3)."""
    x, y = datasets.make_sparse_uncorrelated(n_samples=n, n_features=8, random_state=seed + 50)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), (y / 1000.0).astype(np.float32), seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "make_sparse_uncorrelated, y/1000", None)


def cancer_raw(seed):
    return tab(datasets.load_breast_cancer, seed, "cancer")


# ---- models -----------------------------------------------------------------------------------

def seq(*layers):
    return nn.Sequential(*layers)


class Conv1dNet(nn.Module):
    def __init__(self, classes=3, width=12, act=nn.Hardswish):
        super().__init__()
        self.c1 = nn.Conv1d(1, width, 5, padding=2)
        self.a1 = act()
        self.c2 = nn.Conv1d(width, width, 5, padding=2, dilation=1)
        self.a2 = act()
        self.pool = nn.AdaptiveAvgPool1d(4)  # keeps coarse position: start vs end of the series
        self.head = nn.Linear(4 * width, classes)
        self.mask = None  # a per-batch hook may set it

    def forward(self, x):
        if self.mask is not None:
            x = x * self.mask
        h = self.a2(self.c2(self.a1(self.c1(x))))
        return self.head(self.pool(h).flatten(1))


class LSTMCls(nn.Module):
    def __init__(self, hidden=24, classes=2):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        o, _ = self.lstm(x)
        return self.head(o[:, -1])


def deep(width_in, width, depth, out, act, std=None):
    layers = []
    w = width_in
    for _ in range(depth):
        lin = nn.Linear(w, width)
        if std is not None:
            nn.init.normal_(lin.weight, 0, std)
            nn.init.zeros_(lin.bias)
        layers += [lin, act()]
        w = width
    layers.append(nn.Linear(w, out))
    return nn.Sequential(*layers)


# ---- the training loop ------------------------------------------------------------------------

@dataclass
class Program:
    data: Data
    model: nn.Module
    opt: Callable[[Any], torch.optim.Optimizer]
    epochs: int = 20
    batch_size: int = 32
    loss: Optional[nn.Module] = None  # default: CrossEntropyLoss / MSELoss
    task: str = "cls"  # cls / bin (one logit, BCE) / reg
    shuffle: bool = True
    sched: Optional[Callable[[Any], Any]] = None
    sched_when: str = "epoch"  # epoch / batch / plateau (ReduceLROnPlateau on val loss) / plateau_batch (on batch loss)
    clip: Optional[float] = None
    penalty: Optional[Callable[[nn.Module], torch.Tensor]] = None
    batch_hook: Optional[Callable] = None  # (x, y, epoch, model) -> (x, y)
    epoch_hook: Optional[Callable] = None  # (opt, epoch) -> None
    val_x: Optional[np.ndarray] = None
    val_y: Optional[np.ndarray] = None
    train_y: Optional[np.ndarray] = None
    patience: Optional[int] = None  # early stopping on the val loss
    val_per: Optional[int] = None  # a summed loss: log the val loss as if summed over batches of this size
    params: Optional[Any] = None  # what the optimizer trains (default: all)
    threshold: float = 0.0  # binary: the output above which the prediction is 1 (0.5 on a model that outputs probabilities)
    # logging
    surface: str = "babysit"  # babysit / wandb / tb / trackio
    keys: Dict[str, str] = field(default_factory=lambda: {"loss": "train/loss", "val_loss": "val/loss", "acc": "train/acc",
                                                          "val_acc": "val/acc"})
    log_every: int = 1  # steps between training-loss points (mean of them); 0: once an epoch
    with_step: bool = True
    watch_every: Optional[int] = 10
    config: Optional[Dict[str, Any]] = None
    input_stats: bool = False
    label_stats: bool = False
    output_stats: bool = False


class Surface:
    """The four ways the programs log: the same metrics through babysit or one of its drop-ins."""

    def __init__(self, kind: str, name: str, config: Optional[Dict[str, Any]]):
        self.kind = kind
        if kind == "wandb":
            import babysit.wandb as wandb
            self.mod = wandb
            wandb.init(project="corpus10", name=name, config=config)
        elif kind == "trackio":
            import babysit.trackio as trackio
            self.mod = trackio
            trackio.init(project="corpus10", name=name, config=config)
        elif kind == "tb":
            from babysit.tensorboard import SummaryWriter
            self.mod = SummaryWriter(project="corpus10", name=name, config=config)
        else:
            self.mod = babysit
            babysit.init(project="corpus10", name=name, config=config)

    def watch(self, model, opt, every):
        if self.kind == "wandb":
            self.mod.watch(model, log="all", log_freq=every)
        else:
            babysit.watch(model, opt, every=every)

    def log(self, metrics: Dict[str, float], step: Optional[int]):
        if self.kind == "tb":
            for k, v in metrics.items():
                self.mod.add_scalar(k, v, step)
        elif self.kind == "babysit":
            babysit.log(metrics, step=step)
        else:
            self.mod.log(metrics, step=step)

    def finish(self):
        if self.kind == "tb":
            self.mod.close()
        else:
            self.mod.finish()


def _lr(opt):
    return opt.param_groups[0]["lr"]


def train(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    reg, binary = p.task == "reg", p.task == "bin"
    ydt = torch.float32 if (reg or binary) else torch.long
    xtr = torch.tensor(d.xtr, dtype=torch.float32)
    ytr = torch.tensor(p.train_y if p.train_y is not None else d.ytr, dtype=ydt)
    xva = torch.tensor(p.val_x if p.val_x is not None else d.xva, dtype=torch.float32)
    yva = torch.tensor(p.val_y if p.val_y is not None else d.yva, dtype=ydt)
    if reg and ytr.dim() == 1:
        ytr, yva = ytr[:, None], yva[:, None]
    model = p.model
    opt = p.opt(p.params if p.params is not None else model.parameters())
    sched = p.sched(opt) if p.sched is not None else None
    loss_fn = p.loss or (nn.MSELoss() if reg else nn.BCEWithLogitsLoss() if binary else nn.CrossEntropyLoss())

    def predict(x):
        out = model(x)
        return out[:, 0] if binary and out.dim() == 2 else out

    def acc(out, y):
        if binary:
            return float(((out > p.threshold).float() == y).float().mean())
        return float((out.argmax(1) == y).float().mean())

    surf = Surface(p.surface, "%s-s%d" % (case.lower(), seed), p.config)
    if p.input_stats:
        babysit.log_input_stats(xtr)
    if p.label_stats and not reg:
        babysit.log_label_stats(ytr.long(), split="train", num_classes=d.num_classes)
    if p.watch_every:
        surf.watch(model, opt, p.watch_every)
    k = p.keys
    g = torch.Generator().manual_seed(seed)
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    step, acc_loss, acc_n = 0, 0.0, 0
    best, bad = float("inf"), 0
    summary: Dict[str, float] = {}
    for ep in range(p.epochs):
        if p.epoch_hook is not None:
            p.epoch_hook(opt, ep)
        model.train()
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        ep_loss = 0.0
        for b in range(nb):
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            x, y = xtr[idx], ytr[idx]
            if p.batch_hook is not None:
                x, y = p.batch_hook(x, y, ep, model)
            loss = loss_fn(predict(x), y)
            if p.penalty is not None:
                loss = loss + p.penalty(model)
            opt.zero_grad()
            loss.backward()
            if p.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), p.clip)
            opt.step()
            if sched is not None and p.sched_when == "batch":
                sched.step()
            elif sched is not None and p.sched_when == "plateau_batch":
                sched.step(float(loss))
            lv = float(loss)
            if step == 0:
                summary["first_loss"] = lv
            ep_loss += lv
            acc_loss += lv
            acc_n += 1
            if p.log_every and acc_n >= p.log_every and "loss" in k:
                row = {k["loss"]: acc_loss / acc_n}
                if "lr" in k and p.log_every > 0:
                    row[k["lr"]] = _lr(opt)
                surf.log(row, step if p.with_step else None)
                acc_loss, acc_n = 0.0, 0
            step += 1
        model.eval()
        with torch.no_grad():
            otr, ova = predict(xtr), predict(xva)
            vloss = float(loss_fn(ova, yva))
            tloss = float(loss_fn(otr, ytr))
            row = {}
            if not p.log_every and "loss" in k:
                row[k["loss"]] = ep_loss / nb
            if "val_loss" in k:
                row[k["val_loss"]] = vloss * p.val_per / len(xva) if p.val_per else vloss
            if not reg:
                if "acc" in k:
                    row[k["acc"]] = acc(otr, ytr)
                if "val_acc" in k:
                    row[k["val_acc"]] = acc(ova, yva)
            if "epoch" in k:
                row[k["epoch"]] = ep + 1
            if "lr" in k and not p.log_every:
                row[k["lr"]] = _lr(opt)
            if p.output_stats and ep == p.epochs - 1:
                babysit.log_output_stats(ova, yva, step=step - 1, split="val")
        surf.log(row, step - 1 if p.with_step else None)
        if TRACE:
            sys.stderr.write("%s s%d ep%3d lr=%.3g train=%.4f val=%.4f acc=%s vacc=%s\n" % (
                case, seed, ep, _lr(opt), tloss, vloss, "-" if reg else "%.3f" % acc(otr, ytr),
                "-" if reg else "%.3f" % acc(ova, yva)))
        summary.update(train_loss=tloss, val_loss=vloss)
        if not reg:
            summary.update(acc=acc(otr, ytr), val_acc=acc(ova, yva))
        if sched is not None and p.sched_when == "epoch":
            sched.step()
        elif sched is not None and p.sched_when == "plateau":
            sched.step(vloss)
        if p.patience is not None:
            if vloss < best - 1e-4:
                best, bad = vloss, 0
            else:
                bad += 1
                if bad >= p.patience:
                    summary["stopped_epoch"] = ep
                    break
    summary["steps"] = step
    surf.finish()
    return summary


# ---- helpers for the cases --------------------------------------------------------------------

def _seed(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


KERAS = {"loss": "loss", "val_loss": "val_loss", "acc": "accuracy", "val_acc": "val_accuracy"}
HF = {"loss": "train_loss", "val_loss": "eval_loss", "val_acc": "eval_accuracy", "lr": "learning_rate", "epoch": "epoch"}
LIGHTNING = {"loss": "train_loss_step", "val_loss": "val_loss", "val_acc": "val_acc", "acc": "train_acc_epoch"}
TB = {"loss": "Loss/train", "val_loss": "Loss/valid", "acc": "Accuracy/train", "val_acc": "Accuracy/valid"}


def _adam(lr, **kw):
    return lambda ps: torch.optim.Adam(ps, lr=lr, **kw)


def _sgd(lr, momentum=0.0, **kw):
    return lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, **kw)


def build(case: str, seed: int) -> Program:  # noqa: C901 (one branch per case)
    _seed(seed)
    # ---------------- healthy controls ----------------
    if case == "C10-H-FROZEN":
        # "fine-tuning": a feature extractor trained (unlogged) on the first half of the training set, frozen;
        # a new head is trained on the whole training set (a linear probe)
        d = digits_std(seed)
        body = seq(nn.Linear(64, 96), nn.GELU(), nn.Linear(96, 64), nn.GELU())
        pre = seq(body, nn.Linear(64, 10))
        half = len(d.xtr) // 2
        xs, ys = torch.tensor(d.xtr[:half]), torch.tensor(d.ytr[:half])
        o = torch.optim.Adam(pre.parameters(), 2e-3)
        for _ in range(8):
            for i in range(0, len(xs), 64):
                o.zero_grad()
                nn.functional.cross_entropy(pre(xs[i:i + 64]), ys[i:i + 64]).backward()
                o.step()
        for q in body.parameters():
            q.requires_grad_(False)
        head = nn.Linear(64, 10)
        nn.init.normal_(head.weight, 0, 0.01)  # the usual small head init: near-uniform predictions, loss ~ln 10
        nn.init.zeros_(head.bias)
        return Program(d, seq(body, head), _adam(1e-3), epochs=12, batch_size=32, params=head.parameters(),
                       surface="wandb", keys=HF, log_every=5, watch_every=20,
                       config={"base_model": "digits0-4-mlp", "freeze_backbone": True, "learning_rate": 1e-3,
                               "per_device_train_batch_size": 32, "num_train_epochs": 12})
    if case == "C10-H-NOISY-LONG":
        d = classif(seed, n=2000, classes=5, flip=0.2, sep=1.2)
        return Program(d, seq(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 5)), _sgd(0.01, 0.9), epochs=12,
                       batch_size=16, keys={"loss": "loss", "val_loss": "val_loss", "val_acc": "val_acc"},
                       watch_every=50, config={"lr": 0.01, "batch_size": 16})
    if case == "C10-H-AUGNOISE":
        xtr, xva, ytr, yva = tab(datasets.load_wine, seed, "wine")
        xtr, xva = _standardise(xtr, xva)
        d = Data(xtr, ytr, xva, yva, "wine", 3)
        g = torch.Generator().manual_seed(seed + 1)

        def noise(x, y, ep, model):  # strong augmentation: gaussian noise of 0.6 std on standardised inputs
            return x + 0.6 * torch.randn(x.shape, generator=g), y
        return Program(d, seq(nn.Linear(13, 48), nn.ELU(), nn.Dropout(0.2), nn.Linear(48, 3)), _adam(3e-3), epochs=40,
                       batch_size=16, batch_hook=noise, surface="tb", keys=TB, log_every=1, watch_every=8,
                       config={"lr": 3e-3, "batch_size": 16, "aug_noise_std": 0.6, "optimizer": "Adam",
                               "dropout": 0.2, "epochs": 40})
    if case == "C10-H-TINYLR-ADAM":
        xtr, xva, ytr, yva = cancer_raw(seed)
        xtr, xva = _standardise(xtr, xva)
        d = Data(xtr, ytr, xva, yva, "cancer", 2)
        return Program(d, seq(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 2)), _adam(2e-4), epochs=40, batch_size=16,
                       keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/accuracy"}, watch_every=10,
                       input_stats=True, config={"optimizer": "Adam", "lr": 2e-4, "batch_size": 16, "epochs": 40,
                                                 "hidden": 64, "dataset": "breast_cancer"})
    if case == "C10-H-CYCLIC":
        d = digits_pooled(seed)
        return Program(d, seq(nn.Linear(16, 64), nn.LeakyReLU(0.1), nn.Linear(64, 64), nn.LeakyReLU(0.1), nn.Linear(64, 10)),
                       _sgd(0.01, 0.9),
                       sched=lambda o: torch.optim.lr_scheduler.CyclicLR(o, base_lr=0.005, max_lr=0.08, step_size_up=60),
                       sched_when="batch", epochs=15, batch_size=32, surface="trackio",
                       keys={"loss": "train_loss", "val_loss": "val_loss", "val_acc": "val_acc", "lr": "lr"},
                       log_every=3, watch_every=15,
                       config={"lr_schedule": "CyclicLR(0.005, 0.08, 60)", "momentum": 0.9, "batch_size": 32})
    if case == "C10-H-EARLYSTOP-HUBER":
        d, _ = diabetes_std(seed)
        return Program(d, seq(nn.Linear(10, 32), nn.Softplus(), nn.Linear(32, 1)), _adam(3e-3), task="reg",
                       loss=nn.HuberLoss(delta=1.0), epochs=200, batch_size=32, patience=8,
                       keys={"loss": "train_huber", "val_loss": "valid_loss"}, log_every=0, watch_every=6,
                       config=None)
    if case == "C10-H-SMALLSCALE-REG":
        d = small_scale_reg(seed)
        return Program(d, seq(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1)), _adam(1e-3), task="reg", epochs=15,
                       batch_size=32, keys={"loss": "mse", "val_loss": "val_mse"}, log_every=2, watch_every=10,
                       surface="wandb", config={"lr": 1e-3, "batch_size": 32, "target_units": "thousands"})
    if case == "C10-H-CLASSWEIGHT":
        d = classif(seed, n=1600, classes=2, weights=[0.92, 0.08], sep=1.3, informative=5)
        w = torch.tensor([1.0, 8.0])
        return Program(d, seq(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 2)), _adam(2e-3),
                       loss=nn.CrossEntropyLoss(weight=w), epochs=20, batch_size=64, keys=KERAS, log_every=0,
                       watch_every=10, label_stats=True, surface="tb",
                       config={"class_weight": [1.0, 8.0], "lr": 2e-3, "batch_size": 64, "epochs": 20})
    if case == "C10-H-LSTM-SIGNS":
        d = sign_sequences(seed)
        return Program(d, LSTMCls(24), _adam(3e-3), epochs=15, batch_size=32, keys=LIGHTNING, log_every=1,
                       watch_every=12, surface="trackio", config={"hidden": 24, "lr": 5e-3})
    if case == "C10-H-CONV1D-TREND":
        d = trends(seed)
        return Program(d, Conv1dNet(3), lambda ps: torch.optim.NAdam(ps, lr=2e-3), epochs=15, batch_size=32,
                       keys={"loss": "nll", "val_loss": "val_nll", "val_acc": "dev/acc"}, log_every=5, watch_every=10,
                       config={"optimizer": "NAdam", "lr": 2e-3, "batch_size": 32, "kernel": 5, "width": 12,
                               "activation": "hardswish", "epochs": 15, "series_len": 40})
    if case == "C10-H-LOWRANK-SUM":
        d = low_rank_reg(seed)
        return Program(d, seq(nn.Linear(30, 64), nn.SiLU(), nn.Linear(64, 3)), lambda ps: torch.optim.Adamax(ps, lr=4e-3),
                       task="reg", loss=nn.MSELoss(reduction="sum"), epochs=14, batch_size=50, val_per=50,
                       keys={"loss": "train/sse", "val_loss": "val/sse"}, log_every=5, watch_every=10,
                       surface="wandb", with_step=False, config={"optimizer": "Adamax", "reduction": "sum"})
    if case == "C10-H-IRIS-TINY":
        xtr, xva, ytr, yva = tab(datasets.load_iris, seed, "iris")
        xtr, xva = _standardise(xtr, xva)
        d = Data(xtr, ytr, xva, yva, "iris", 3)
        return Program(d, seq(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), lambda ps: torch.optim.RAdam(ps, lr=1e-2),
                       epochs=60, batch_size=16, patience=6, keys=KERAS, log_every=0, watch_every=None,
                       config={"lr": 1e-2, "optimizer": "RAdam"})
    # ---------------- faulty programs ----------------
    if case == "C10-NL-SPLITIDX":
        # bug: y gathered with the batch position instead of the shuffled index: labels unrelated to x
        d = digits_pooled(seed)
        ysorted = torch.tensor(d.ytr)

        def misaligned(x, y, ep, model, _state={"b": 0}):
            b = _state["b"] % math.ceil(len(ysorted) / 32)
            _state["b"] += 1
            yy = ysorted[b * 32:b * 32 + len(x)]
            return x, yy
        return Program(d, seq(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10)), _adam(1e-3), epochs=15, batch_size=32,
                       batch_hook=misaligned, val_y=np.random.RandomState(seed).permutation(d.yva), surface="wandb",
                       keys=HF, log_every=5, watch_every=10, config={"learning_rate": 1e-3, "batch_size": 32})
    if case == "C10-NL-MASKZERO":
        # bug: a padding mask built with an integer comparison that is all zeros: the net sees zeros only
        d = trends(seed)
        net = Conv1dNet(3, act=nn.ReLU)

        def mask(x, y, ep, model):
            model.mask = (torch.ones_like(x) > 1).float()
            return x, y

        class Masked(nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, x):
                self.net.mask = (torch.ones_like(x) > 1).float()
                return self.net(x)
        return Program(d, Masked(net), _adam(2e-3), epochs=12, batch_size=32, keys={"loss": "loss", "val_loss": "val_loss",
                       "acc": "acc", "val_acc": "val_acc"}, watch_every=10, surface="tb",
                       config={"lr": 2e-3, "batch_size": 32, "mask": "padding"})
    if case == "C10-LOM-DOUBLESIGMOID":
        xtr, xva, ytr, yva = cancer_raw(seed)
        xtr, xva = _standardise(xtr, xva)
        d = Data(xtr, ytr, xva, yva, "cancer", 2)
        return Program(d, seq(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid()), _adam(2e-3), task="bin",
                       loss=nn.BCEWithLogitsLoss(), threshold=0.5, epochs=30, batch_size=32, keys=KERAS, log_every=0, watch_every=8,
                       config={"loss": "BCEWithLogitsLoss", "output": "sigmoid", "lr": 2e-3})
    if case == "C10-LOM-SOFTMAX-NLL":
        d = digits_std(seed)
        return Program(d, seq(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1)), _adam(1e-3),
                       loss=nn.NLLLoss(), epochs=12, batch_size=32, surface="trackio",
                       keys={"loss": "train/nll", "val_loss": "val/nll", "acc": "train/acc", "val_acc": "val/acc"},
                       log_every=2, watch_every=10, config={"loss": "NLLLoss", "lr": 1e-3, "batch_size": 32})
    if case == "C10-UNS-TREND":
        d = trends(seed)
        o = np.argsort(d.ytr, kind="stable")
        d = Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, 3)
        return Program(d, Conv1dNet(3, act=nn.ReLU), _sgd(0.02, 0.9), shuffle=False, epochs=10, batch_size=32,
                       keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc"}, watch_every=5,
                       config={"lr": 0.02, "momentum": 0.9, "batch_size": 32, "shuffle": False})
    if case == "C10-UNS-TARGETSORT":
        # rows sorted by the target (for a plot) and never shuffled back
        d, _ = diabetes_std(seed)
        o = np.argsort(d.ytr, kind="stable")
        d = Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, None)
        return Program(d, seq(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1)), _sgd(0.01, 0.9), task="reg",
                       shuffle=False, epochs=30, batch_size=16, surface="wandb",
                       keys={"loss": "train_loss", "val_loss": "val_loss"}, log_every=1, watch_every=10,
                       config={"lr": 0.01, "batch_size": 16, "shuffle": False})
    if case == "C10-TVM-LOG":
        # training features log1p-transformed then standardised; validation only standardised
        xtr, xva, ytr, yva = cancer_raw(seed)
        lt = np.log1p(xtr)
        mu, sd = lt.mean(0), lt.std(0) + 1e-8
        d = Data((lt - mu) / sd, ytr, (np.log1p(xva) - mu) / sd, yva, "cancer log1p", 2)
        return Program(d, seq(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 2)), _adam(1e-3), epochs=25, batch_size=32,
                       val_x=(xva - mu) / sd, keys=KERAS, log_every=0, watch_every=8, surface="tb",
                       config={"preprocessing": "log1p+standardise", "lr": 1e-3})
    if case == "C10-TVM-TARGET":
        # regression: the target scaler applied to training targets only
        d, (mu, sd, yva_raw) = diabetes_std(seed)
        return Program(d, seq(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1)), _adam(2e-3), task="reg", epochs=40,
                       batch_size=32, val_y=yva_raw, keys={"loss": "loss", "val_loss": "val_loss"}, log_every=5,
                       watch_every=None, surface="trackio", config={"lr": 2e-3, "target_scaling": "standard"})
    if case == "C10-OR-L1":
        d = digits_std(seed)
        model = seq(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        return Program(d, model, lambda ps: torch.optim.NAdam(ps, lr=2e-3), epochs=15, batch_size=32,
                       penalty=lambda m: 0.02 * sum(q.abs().sum() for q in m.parameters()), watch_every=10,
                       keys={"loss": "loss", "val_loss": "val_loss", "acc": "acc", "val_acc": "val_acc"},
                       config={"optimizer": "NAdam", "lr": 2e-3, "l1": 0.02})
    if case == "C10-OR-ADAMW":
        d = classif(seed, n=1500, classes=4, sep=1.5)
        return Program(d, seq(nn.Linear(12, 64), nn.GELU(), nn.Linear(64, 4)),
                       lambda ps: torch.optim.AdamW(ps, lr=3e-3, weight_decay=8.0), epochs=30, batch_size=32,
                       surface="wandb", keys=HF, log_every=5, watch_every=40,
                       config={"learning_rate": 3e-3, "weight_decay": 8.0, "optimizer": "AdamW"})
    if case == "C10-MC-RARE-BCE":
        d = classif(seed, n=1600, classes=2, weights=[0.94, 0.06], sep=0.2, informative=2, features=12)
        return Program(d, seq(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 1)), _sgd(0.02), task="bin", epochs=20,
                       batch_size=64, keys={"loss": "loss", "val_loss": "val_loss", "acc": "accuracy",
                                            "val_acc": "val_accuracy"}, log_every=0, watch_every=5, label_stats=True,
                       config={"lr": 0.02, "batch_size": 64})
    if case == "C10-UF-BOTTLENECK":
        d = digits_std(seed)
        return Program(d, seq(nn.Linear(64, 2), nn.Hardtanh(), nn.Linear(2, 10)), _adam(3e-3), epochs=25, batch_size=32,
                       keys=LIGHTNING, surface="trackio", watch_every=10, config={"bottleneck": 2, "lr": 3e-3})
    if case == "C10-LRL-PLATEAU-BATCH":
        # ReduceLROnPlateau fed the noisy minibatch loss every batch (patience 2): the lr halves to ~0
        d = digits_pooled(seed)
        return Program(d, seq(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10)), _sgd(0.05, 0.9),
                       sched=lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2),
                       sched_when="plateau_batch", epochs=12, batch_size=32, surface="wandb",
                       keys=HF, log_every=1, watch_every=10, config={"learning_rate": 0.05, "scheduler": "ReduceLROnPlateau"})
    if case == "C10-LRL-SGD-TINY":
        d = trends(seed)
        return Program(d, Conv1dNet(3, act=nn.ReLU), _sgd(2e-5), epochs=12, batch_size=32, surface="tb", keys=TB,
                       watch_every=10, config={"lr": 2e-5, "optimizer": "SGD"})
    if case == "C10-LRH-JUMP":
        # a hand-written schedule meant to divide the lr by 10 at epoch 6 multiplies it by 10 instead (twice)
        d = digits_std(seed)

        def jump(opt, ep):
            if ep in (6, 8):
                for gr in opt.param_groups:
                    gr["lr"] = gr["lr"] * 10
        return Program(d, seq(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)),
                       _sgd(0.02, 0.9), epoch_hook=jump, epochs=14, batch_size=32,
                       keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "lr": "lr"},
                       log_every=1, watch_every=10, config={"lr": 0.02, "momentum": 0.9, "decay_at": [6, 8]})
    if case == "C10-LRH-ADAMAX":
        d = classif(seed, n=1500, classes=5, sep=1.2)
        return Program(d, seq(nn.Linear(12, 64), nn.LeakyReLU(0.01), nn.Linear(64, 64), nn.LeakyReLU(0.01),
                              nn.Linear(64, 5)),
                       lambda ps: torch.optim.Adamax(ps, lr=0.5), epochs=15, batch_size=64, surface="trackio",
                       keys={"loss": "train_loss", "val_loss": "val_loss", "val_acc": "val_acc"}, log_every=1,
                       watch_every=5, config={"optimizer": "Adamax", "lr": 0.5})
    if case == "C10-BS1-REG":
        d, _ = diabetes_std(seed)
        return Program(d, seq(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1)), _sgd(0.003), task="reg", epochs=5,
                       batch_size=1, keys={"loss": "train_loss", "val_loss": "val_loss"}, log_every=1, watch_every=25,
                       surface="wandb", config={"batch_size": 1, "lr": 0.003})
    if case == "C10-DIV-MOM99":
        xtr, xva, ytr, yva = tab(datasets.load_wine, seed, "wine")
        xtr, xva = _standardise(xtr, xva)
        d = Data(xtr, ytr, xva, yva, "wine", 3)
        return Program(d, seq(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3)),
                       _sgd(0.5, 0.99), epochs=20, batch_size=16, keys=KERAS, log_every=1, watch_every=5,
                       config={"lr": 0.5, "momentum": 0.99, "batch_size": 16})
    if case == "C10-VG-SOFTSIGN":
        d = digits_std(seed)
        model = deep(64, 48, 10, 10, nn.Softsign, std=0.06)
        return Program(d, model, _sgd(0.05, 0.5), epochs=10, batch_size=32, surface="tb", keys=TB, watch_every=10,
                       config={"depth": 10, "activation": "softsign", "init_std": 0.06, "lr": 0.05})
    if case == "C10-DR-NEGINIT":
        # pixels in [0, 1] (all >= 0) and first-layer weights initialised in [-0.2, 0]: every unit starts dead
        d = digits_unit(seed)
        model = seq(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        with torch.no_grad():
            model[0].weight.uniform_(-0.2, 0.0)
            model[0].bias.fill_(-0.1)
        return Program(d, model, _adam(1e-3), epochs=12, batch_size=32, surface="wandb",
                       keys={"loss": "loss", "val_loss": "val_loss", "acc": "acc", "val_acc": "val_acc"},
                       log_every=2, watch_every=10, config={"init": "uniform(-0.2, 0)", "lr": 1e-3})
    if case == "C10-INN-WINE-RAW":
        xtr, xva, ytr, yva = tab(datasets.load_wine, seed, "wine")
        d = Data(xtr, ytr, xva, yva, "wine raw", 3)
        return Program(d, seq(nn.Linear(13, 32), nn.ELU(), nn.Linear(32, 3)), _adam(1e-3), epochs=30, batch_size=16,
                       input_stats=True, keys={"loss": "train/loss", "val_loss": "val/loss", "acc": "train/acc",
                                               "val_acc": "val/acc"}, watch_every=8, config={"lr": 1e-3})
    if case == "C10-BIL-BIGHEAD":
        d = digits_pooled(seed)
        model = seq(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10))
        with torch.no_grad():
            model[2].weight.normal_(0, 3.0)
        return Program(d, model, _adam(1e-3), epochs=15, batch_size=32, surface="trackio",
                       keys={"loss": "train_loss", "val_loss": "val_loss", "val_acc": "val_acc"}, log_every=1,
                       watch_every=10, config={"head_init_std": 3.0, "lr": 1e-3})
    if case == "C10-OF-TINYTRAIN":
        d = digits_std(seed)
        r = np.random.RandomState(seed)
        keep = r.choice(len(d.xtr), 60, replace=False)
        d = Data(d.xtr[keep], d.ytr[keep], d.xva, d.yva, "digits, 60 training images", 10)
        return Program(d, seq(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)),
                       _adam(1e-3), epochs=150, batch_size=20, keys={"loss": "loss", "val_loss": "val_loss",
                                                                     "acc": "acc", "val_acc": "val_acc"},
                       log_every=0, watch_every=25, config={"train_size": 60, "lr": 1e-3, "epochs": 150})
    raise KeyError(case)


# ---- the labels ---------------------------------------------------------------------------------

def _control(fault, allowed=()):
    return dict(fault=fault, must=[], allowed=list(allowed), control=True, source="healthy control")


def _faulty(fault, must, allowed=(), source=""):
    """must_not: every other code of the alert list."""
    must_not = [c for c in ALL_CODES if c not in must and c not in allowed]
    return dict(fault=fault, must=list(must), allowed=list(allowed), must_not=must_not, control=False, source=source)


CASES: Dict[str, dict] = {
    "C10-H-FROZEN": _control("linear probe: frozen feature extractor (pretrained unlogged on half the data), new head, wandb HF keys"),
    "C10-H-NOISY-LONG": _control("5 classes with 20 % flipped labels, batch 16, SGD momentum, 1 500 noisy steps"),
    "C10-H-AUGNOISE": _control("wine with strong gaussian input noise (0.6 std) as augmentation; val (clean) beats train"),
    "C10-H-TINYLR-ADAM": _control("Adam at lr 2e-4 on breast cancer: slow but steady, right for Adam"),
    "C10-H-CYCLIC": _control("CyclicLR (0.005-0.08, triangular) per batch, SGD momentum, digits pooled 4x4, trackio"),
    "C10-H-EARLYSTOP-HUBER": _control("diabetes, Huber loss, Softplus MLP, early-stopped on valid_loss, no config"),
    # default init puts the first outputs ~0.1 off targets of ~1e-3: the first loss is ~100x the final
    # one, which a careful reader may point out though the run is fine
    "C10-H-SMALLSCALE-REG": _control("regression with targets ~1e-3 (MSE ~1e-4 at the end), tanh MLP, wandb",
                                     ["bad_initial_loss"]),
    "C10-H-CLASSWEIGHT": _control("92/8 imbalance handled with class weights [1, 8], Keras keys via tensorboard"),
    "C10-H-LSTM-SIGNS": _control("LSTM on sign-of-sum sequences, Lightning-style keys, trackio"),
    "C10-H-CONV1D-TREND": _control("Hardswish 1-D CNN on trend series, NAdam, keys nll/val_nll/dev/acc"),
    "C10-H-LOWRANK-SUM": _control("3-target regression on low-rank inputs, MSE summed per batch, Adamax, wandb without step"),
    "C10-H-IRIS-TINY": _control("iris (112 train rows), RAdam 1e-2, early-stopped after a few dozen steps"),
    "C10-NL-SPLITIDX": _faulty("labels gathered by batch position, inputs by shuffled index: labels unrelated to inputs",
                               ["no_learning"], ["loss_plateau", "underfitting", "overfitting"], "UM wrong labels"),
    "C10-NL-MASKZERO": _faulty("padding mask built all zeros: the 1-D CNN sees only zeros",
                               ["no_learning"], ["loss_plateau", "underfitting", "dead_relu", "vanishing_gradients",
                                                 "input_not_normalized"], "TDC constant input"),
    "C10-LOM-DOUBLESIGMOID": _faulty("sigmoid output layer before BCEWithLogitsLoss (breast cancer)",
                                     ["loss_output_mismatch"], ["loss_plateau", "saturated_activations"],
                                     "TDC last-layer activation"),
    "C10-LOM-SOFTMAX-NLL": _faulty("softmax probabilities fed to NLLLoss (expects log-probabilities): loss goes to -1",
                                   ["loss_output_mismatch"], ["loss_plateau", "bad_initial_loss"], "UM softmax-before-loss"),
    "C10-UNS-TREND": _faulty("trend series sorted by class, shuffle=False (1-D CNN, SGD momentum)",
                             ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "lr_too_high",
                                                   "no_learning", "majority_class", "overfitting"], "TDC unshuffled"),
    "C10-UNS-TARGETSORT": _faulty("diabetes rows sorted by the target and never shuffled (regression, SGD momentum)",
                                  ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "overfitting",
                                                        "lr_too_high"], "DFD data order"),
    "C10-TVM-LOG": _faulty("training features log1p-transformed, validation features not (only standardised)",
                           ["train_val_mismatch"], ["overfitting"], "TDC pipeline mismatch"),
    "C10-TVM-TARGET": _faulty("regression: target scaler applied to training targets only (val targets raw 25..346)",
                              ["train_val_mismatch"], [], "TDC pipeline mismatch"),
    "C10-OR-L1": _faulty("L1 penalty 0.02 x sum |w| over all parameters dominates the loss (digits MLP, NAdam)",
                         ["over_regularization"], ["underfitting", "loss_plateau"], "DEF regularization"),
    "C10-OR-ADAMW": _faulty("AdamW weight_decay 8.0: weights shrink, accuracy capped (4-class make_classification)",
                            ["over_regularization"], ["underfitting", "loss_plateau", "no_learning"], "DEF regularization"),
    "C10-MC-RARE-BCE": _faulty("94/6 binary, weak features, one logit + BCE, plain SGD: predicts the majority",
                               ["majority_class"], ["loss_plateau", "underfitting", "lr_too_low", "no_learning"],
                               "TDC unbalanced data"),
    "C10-UF-BOTTLENECK": _faulty("a 2-unit hardtanh bottleneck for 10-class digits: train and val track each other, capped",
                                 ["underfitting"], ["loss_plateau", "saturated_activations"], "DEF model capacity"),
    "C10-LRL-PLATEAU-BATCH": _faulty("ReduceLROnPlateau(patience 2) stepped on every minibatch loss: lr halves to ~0",
                                     ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR"),
    "C10-LRL-SGD-TINY": _faulty("plain SGD at lr 2e-5 on a 1-D CNN: the loss barely moves from ln 3",
                                ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "AT slow convergence"),
    "C10-LRH-JUMP": _faulty("hand-made schedule multiplies the lr by 10 at epochs 6 and 8 (meant to divide): collapse",
                            ["lr_too_high"], ["divergence", "dead_relu", "noisy_loss", "no_learning", "loss_plateau",
                                              "exploding_gradients", "underfitting"], "DFD lr"),
    "C10-LRH-ADAMAX": _faulty("Adamax at lr 0.5 on a LeakyReLU MLP: update ratios far above 1e-3 all run",
                              ["lr_too_high"], ["dead_relu", "noisy_loss", "loss_plateau", "underfitting", "divergence",
                                                "exploding_gradients", "no_learning", "overfitting"], "AT oscillating loss"),
    "C10-BS1-REG": _faulty("batch size 1 on a regression (diabetes), SGD 0.003: per-sample losses",
                           ["noisy_loss"], ["lr_too_high"], "DFD batch size"),
    "C10-DIV-MOM99": _faulty("SGD lr 0.5 with momentum 0.99 on wine: the loss explodes",
                             ["divergence"], ["lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss",
                                              "loss_plateau", "no_learning"], "AT EG/NaN"),
    "C10-VG-SOFTSIGN": _faulty("10 softsign layers initialised N(0, 0.06): gradients vanish towards the input",
                               ["vanishing_gradients"], ["loss_plateau", "underfitting", "no_learning", "lr_too_low",
                                                         "saturated_activations"], "AT VG"),
    "C10-DR-NEGINIT": _faulty("non-negative pixels, first layer initialised in [-0.2, 0] with bias -0.1: ReLUs dead",
                              ["dead_relu"], ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients",
                                              "lr_too_low", "majority_class"], "AT DR"),
    "C10-INN-WINE-RAW": _faulty("wine raw features (proline ~1000) into an ELU MLP", ["input_not_normalized"],
                                ["loss_plateau", "underfitting", "noisy_loss", "bad_initial_loss"], "TDC normalisation"),
    "C10-BIL-BIGHEAD": _faulty("output layer initialised N(0, 3): initial loss far above ln 10, then learns",
                               ["bad_initial_loss"], ["overfitting", "underfitting"], "cs231n initial loss"),
    "C10-OF-TINYTRAIN": _faulty("60 training images, a 256-256 MLP for 150 epochs: val loss rises while train -> 0",
                                ["overfitting"], ["loss_plateau"], "DEF data size"),
}


def label(case: str, seed: int) -> dict:
    return label_of(CASES, case, seed)


if __name__ == "__main__":
    main(build, train)

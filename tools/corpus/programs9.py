"""corpus9: a held-out set of faulty training programs and healthy controls, written without reading the rules.

35 cases (10 healthy controls, 25 faulty programs), each a real PyTorch 1.13 CPU training of a few
seconds on offline data (scikit-learn's bundled sets and generators, numpy), logged through the
babysit SDK or one of its drop-ins (``babysit.wandb``, ``babysit.tensorboard``, ``babysit.trackio``)
with the keys and habits users of those trackers have. One training loop (``train``) with hooks for
the optimizer, the scheduler and when it steps, the loss, a per-batch / per-epoch hook where a data
or schedule bug lives, and the logging surface.

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs9.py C9-H-RECSYS 0
Trace one case without a server (per-evaluation numbers):
    PROGRAMS9_TRACE=1 BABYSIT_MODE=disabled PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs9.py C9-H-RECSYS 0
Record:        PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs9 --seeds 0,1
Labels (``CASES``) were written from each program and its own printed numbers, not from what babysit raises.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets

import babysit
from programs import ALL_CODES, _split, _standardise, label_of, main

torch.set_num_threads(1)
TRACE = os.environ.get("PROGRAMS9_TRACE") == "1"


# ---- data (offline) ---------------------------------------------------------------------------

def _t(a, dtype=torch.float32):
    return torch.tensor(np.asarray(a), dtype=dtype)


def digits_flat(seed):
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    mu, sd = xtr.mean(), xtr.std()
    return (xtr - mu) / sd, ytr, (xva - mu) / sd, yva


def digit_sums(seed, n_train=3000, n_val=800):
    """Two digit images side by side (128 pixels); the class is the sum of the two digits (19 classes)."""
    xtr, ytr, xva, yva = digits_flat(seed)
    r = np.random.RandomState(seed + 11)

    def pairs(x, y, n):
        i, j = r.randint(0, len(x), n), r.randint(0, len(x), n)
        return np.concatenate([x[i], x[j]], 1), y[i] + y[j]
    a, b = pairs(xtr, ytr, n_train)
    c, d = pairs(xva, yva, n_val)
    return a, b, c, d


def digits_parity(seed):
    xtr, ytr, xva, yva = digits_flat(seed)
    return xtr, ytr % 2, xva, yva % 2


def recsys(seed, users=300, items=200, rank=4, n=12000):
    """Ratings from a rank-4 user x item matrix plus noise; (user, item) pairs -> standardised rating."""
    r = np.random.RandomState(seed)
    u, v = r.randn(users, rank), r.randn(items, rank)
    ui, ii = r.randint(0, users, n), r.randint(0, items, n)
    y = (u[ui] * v[ii]).sum(1) / math.sqrt(rank) + 0.3 * r.randn(n)
    y = (y - y.mean()) / y.std()
    k = int(0.8 * n)
    x = np.stack([ui, ii], 1)
    return x[:k], y[:k].astype(np.float32), x[k:], y[k:].astype(np.float32)


def adding_problem(seed, n=4000, length=20):
    """Hochreiter's adding problem: values U(0,1) and two markers; the target is the sum of the marked values."""
    r = np.random.RandomState(seed)
    vals = r.rand(n, length)
    mark = np.zeros((n, length))
    for k in range(n):
        i, j = r.choice(length, 2, replace=False)
        mark[k, i] = mark[k, j] = 1
    x = np.stack([vals, mark], 2).astype(np.float32)
    y = (vals * mark).sum(1).astype(np.float32)
    k = int(0.8 * n)
    return x[:k], y[:k], x[k:], y[k:]


def diabetes_std(seed, raw_x=False):
    d = datasets.load_diabetes(scaled=not raw_x)
    xtr, xva, ytr, yva = _split(d.data.astype(np.float32), d.target.astype(np.float32), seed, stratify=False)
    if not raw_x:
        xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return xtr, (ytr - mu) / sd, xva, (yva - mu) / sd


def tabular(loader, seed):
    d = loader()
    xtr, xva, ytr, yva = _split(d.data.astype(np.float32), d.target, seed)
    xs, vs = _standardise(xtr, xva)
    return xs, ytr, vs, yva, xtr, xva  # standardised and raw


def noisy_moons(seed, n=1600, noise=0.35):
    x, y = datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return xtr, ytr, xva, yva


def synth_cls(seed, classes=5, n=2000, sep=1.5, weights=None, informative=6, features=16, flip=0.01):
    x, y = datasets.make_classification(n_samples=n, n_features=features, n_informative=informative, n_redundant=2,
                                        n_classes=classes, n_clusters_per_class=1, weights=weights, class_sep=sep,
                                        flip_y=flip, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return xtr, ytr, xva, yva


# ---- models -----------------------------------------------------------------------------------

def seq(*mods):
    return nn.Sequential(*mods)


class MF(nn.Module):
    """Matrix factorisation: user and item embeddings, dot product plus biases."""

    def __init__(self, users=300, items=200, dim=16):
        super().__init__()
        self.u, self.v = nn.Embedding(users, dim), nn.Embedding(items, dim)
        self.ub, self.vb = nn.Embedding(users, 1), nn.Embedding(items, 1)
        for e in (self.u, self.v):
            nn.init.normal_(e.weight, 0, 0.1)
        for e in (self.ub, self.vb):
            nn.init.zeros_(e.weight)

    def forward(self, x):
        u, i = x[:, 0], x[:, 1]
        return (self.u(u) * self.v(i)).sum(1) + self.ub(u)[:, 0] + self.vb(i)[:, 0]


class TiedAE(nn.Module):
    """Autoencoder whose decoder is the encoder's transposed weight (tied weights)."""

    def __init__(self, d=64, h=24):
        super().__init__()
        self.enc = nn.Linear(d, h)
        self.act = nn.ELU()
        self.dbias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return F.linear(self.act(self.enc(x)), self.enc.weight.t(), self.dbias)


class GRUReg(nn.Module):
    def __init__(self, d=2, h=48):
        super().__init__()
        self.gru = nn.GRU(d, h, batch_first=True)
        self.head = nn.Linear(h, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])[:, 0]


class ReluRNN(nn.Module):
    """A hand-written ReLU RNN (its recurrent and input maps are Linear layers, so watch() sees them)."""

    def __init__(self, d=2, h=64, gain=1.0):
        super().__init__()
        self.inp, self.rec = nn.Linear(d, h), nn.Linear(h, h)
        self.act = nn.ReLU()
        self.head = nn.Linear(h, 1)
        nn.init.orthogonal_(self.rec.weight, gain=gain)

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.rec.out_features)
        for t in range(x.shape[1]):
            h = self.act(self.inp(x[:, t]) + self.rec(h))
        return self.head(h)[:, 0]


class DeepResidual(nn.Module):
    """14 un-normalised residual blocks x + relu(W x) with He init: the signal doubles in variance per block."""

    def __init__(self, depth=14, w=32):
        super().__init__()
        self.inp, self.out = nn.Linear(16, w), nn.Linear(w, 5)
        self.blocks = nn.ModuleList([nn.Linear(w, w) for _ in range(depth)])
        self.acts = nn.ModuleList([nn.ReLU() for _ in range(depth)])
        for b in self.blocks:
            nn.init.kaiming_normal_(b.weight)

    def forward(self, x):
        x = self.inp(x)
        for b, a in zip(self.blocks, self.acts):
            x = x + a(b(x))
        return self.out(x)


class ResBlock(nn.Module):
    def __init__(self, w, groups=4):
        super().__init__()
        self.fc, self.norm, self.act = nn.Linear(w, w), nn.GroupNorm(groups, w), nn.GELU()

    def forward(self, x):
        return x + self.act(self.norm(self.fc(x)))


class Scorer(nn.Module):
    """Scores one example; used on pairs (x_i, x_j) for a ranking loss."""

    def __init__(self, d=10, h=32):
        super().__init__()
        self.net = seq(nn.Linear(d, h), nn.LeakyReLU(0.1), nn.Linear(h, h), nn.LeakyReLU(0.1), nn.Linear(h, 1))

    def forward(self, x):
        if x.dim() == 3:  # (N, 2, d) pairs
            return self.net(x).squeeze(-1)
        return self.net(x)[:, 0]


class ConvNet(nn.Module):
    def __init__(self, classes=2, neg_init=False):
        super().__init__()
        self.conv1, self.act1 = nn.Conv2d(1, 16, 3, padding=1), nn.ReLU()
        self.conv2, self.act2 = nn.Conv2d(16, 16, 3, padding=1), nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.out = nn.Linear(64, classes)
        if neg_init:  # "start the filters as inhibitory": every weight drawn around -0.1
            for c in (self.conv1, self.conv2):
                nn.init.normal_(c.weight, -0.1, 0.02)
                nn.init.zeros_(c.bias)

    def forward(self, x):
        x = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.out(self.pool(x).flatten(1))


# ---- losses and evaluations -------------------------------------------------------------------

def ce_eval(loss_fn=None):
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def ev(model, xtr, ytr, xva, yva):
        otr, ova = model(xtr), model(xva)
        return {"train_acc": float((otr.argmax(1) == ytr).float().mean()), "val_loss": float(loss_fn(ova, yva)),
                "val_acc": float((ova.argmax(1) == yva).float().mean()), "train_loss_full": float(loss_fn(otr, ytr))}
    return ev


def reg_eval(loss_fn=None, scale=1.0):
    loss_fn = loss_fn or nn.MSELoss()

    def ev(model, xtr, ytr, xva, yva):
        ova = model(xva).reshape(yva.shape)
        return {"val_loss": float(loss_fn(ova, yva)), "val_rmse": float(((ova - yva) ** 2).mean().sqrt()) * scale,
                "train_loss_full": float(loss_fn(model(xtr).reshape(ytr.shape), ytr))}
    return ev


# ---- the one training loop --------------------------------------------------------------------

@dataclass
class Spec:
    data: tuple  # xtr, ytr, xva, yva (numpy)
    model: nn.Module
    opt: Callable  # params -> optimizer
    loss: Callable  # (out, y) -> loss
    evaluate: Callable  # (model, xtr, ytr, xva, yva) -> {train_acc?, val_loss, val_acc?, ...}
    epochs: int = 10
    batch_size: int = 32
    x_dtype: torch.dtype = torch.float32
    y_dtype: torch.dtype = torch.long
    shuffle: bool = True
    sched: Optional[Callable] = None  # (opt, batches_per_epoch, epochs) -> scheduler
    sched_every: str = "epoch"  # "epoch", "batch", "plateau" (ReduceLROnPlateau on the val loss)
    clip: Optional[float] = None
    batch_hook: Optional[Callable] = None  # (xb, yb, epoch, step) -> (xb, yb): where a data bug lives
    epoch_hook: Optional[Callable] = None  # (epoch, opt, ytr) -> None: an lr edit, a label "augmentation"
    val_x_fn: Optional[Callable] = None  # the validation pipeline, when it differs
    closure_opt: bool = False  # LBFGS: full batch with a closure
    early_stop: Optional[int] = None  # patience in evaluations
    eval_every: int = 1  # epochs
    # logging habits
    surface: str = "babysit"  # babysit, wandb, tb, trackio
    keys: Dict[str, str] = field(default_factory=dict)  # role -> the user's key
    loss_every: int = 1  # 0: the epoch's mean once an epoch; N: the mean of every N steps
    step_mode: str = "step"  # step, none (the tracker's own counter), epoch (babysit: epoch=float too)
    watch_every: Optional[int] = 10
    config: Optional[dict] = None
    input_stats: bool = False
    label_stats: bool = False
    output_stats: bool = False
    log_lr: bool = False
    extra: Optional[Callable] = None  # (out, y) -> extra per-step metrics {role: value}


class Logger:
    def __init__(self, spec: Spec, name: str):
        self.s, self.surface = spec, spec.surface
        cfg = spec.config
        if self.surface == "wandb":
            import babysit.wandb as wandb
            self.w = wandb
            wandb.init(project="corpus9", name=name, config=cfg)
        elif self.surface == "tb":
            from babysit.tensorboard import SummaryWriter
            self.w = SummaryWriter("runs/" + name, project="corpus9", config=cfg) if cfg else SummaryWriter("runs/" + name, project="corpus9")
        elif self.surface == "trackio":
            import babysit.trackio as trackio
            self.w = trackio
            trackio.init(project="corpus9", name=name, config=cfg or {})
        else:
            babysit.init(project="corpus9", name=name, config=cfg)

    def watch(self, model, opt):
        if self.s.watch_every is None:
            return
        if self.surface == "wandb":
            self.w.watch(model, log=None, log_freq=self.s.watch_every)
        else:
            babysit.watch(model, opt, every=self.s.watch_every)

    def log(self, row: dict, step: int, epoch: float):
        row = {self.s.keys.get(k, k): v for k, v in row.items()}
        if TRACE:
            return
        if self.surface == "tb":
            for k, v in row.items():
                self.w.add_scalar(k, v, step)
        elif self.surface in ("wandb", "trackio"):
            if self.s.step_mode == "none":
                self.w.log(row)
            else:
                self.w.log(row, step=step)
        else:
            if self.s.step_mode == "none":
                babysit.log(row)
            elif self.s.step_mode == "epoch":
                babysit.log(row, step=step, epoch=epoch)
            else:
                babysit.log(row, step=step)

    def finish(self):
        if self.surface == "tb":
            self.w.close()
        elif self.surface in ("wandb", "trackio"):
            self.w.finish()
        else:
            babysit.finish()


def train(case: str, seed: int, s: Spec) -> Dict[str, float]:
    xtr_np, ytr_np, xva_np, yva_np = s.data
    xtr, xva = _t(xtr_np, s.x_dtype), _t(s.val_x_fn(xva_np) if s.val_x_fn else xva_np, s.x_dtype)
    ytr, yva = _t(ytr_np, s.y_dtype), _t(yva_np, s.y_dtype)
    model, opt = s.model, s.opt(s.model.parameters())
    n = len(xtr)
    nb = math.ceil(n / s.batch_size)
    sched = s.sched(opt, nb, s.epochs) if s.sched else None
    log = Logger(s, "%s-s%d" % (case.lower(), seed))
    if not TRACE:
        if s.input_stats:
            babysit.log_input_stats(xtr)
        if s.label_stats:
            babysit.log_label_stats(ytr, num_classes=int(ytr.max()) + 1)
            babysit.log_label_stats(yva, split="val", num_classes=int(ytr.max()) + 1)
    log.watch(model, opt)
    g = torch.Generator().manual_seed(seed)
    step, acc_loss, acc_n, best, bad = 0, 0.0, 0, float("inf"), 0
    summary: Dict[str, float] = {}
    for ep in range(s.epochs):
        if s.epoch_hook:
            s.epoch_hook(ep, opt, ytr)
        model.train()
        order = torch.randperm(n, generator=g) if s.shuffle else torch.arange(n)
        ep_loss, ep_n = 0.0, 0
        for b in range(nb):
            idx = order[b * s.batch_size:(b + 1) * s.batch_size]
            xb, yb = xtr[idx], ytr[idx]
            if s.batch_hook:
                xb, yb = s.batch_hook(xb, yb, ep, step)
            if s.closure_opt:
                def closure():
                    opt.zero_grad()
                    lo = s.loss(model(xb), yb)
                    lo.backward()
                    return lo
                loss = opt.step(closure)
                out = None
            else:
                out = model(xb)
                loss = s.loss(out, yb)
                opt.zero_grad()
                loss.backward()
                if s.clip:
                    nn.utils.clip_grad_norm_(model.parameters(), s.clip)
                opt.step()
            if sched is not None and s.sched_every == "batch":
                sched.step()
            lv = float(loss)
            if step == 0:
                summary["first_loss"] = lv
            acc_loss, acc_n, ep_loss, ep_n = acc_loss + lv, acc_n + 1, ep_loss + lv, ep_n + 1
            if s.loss_every and acc_n >= s.loss_every:
                row = {"loss": acc_loss / acc_n}
                if s.log_lr:
                    row["lr"] = opt.param_groups[0]["lr"]
                if s.extra and out is not None:
                    row.update(s.extra(out, yb))
                log.log(row, step, ep + (b + 1) / nb)
                acc_loss, acc_n = 0.0, 0
            step += 1
        if sched is not None and s.sched_every == "epoch":
            sched.step()
        last = ep == s.epochs - 1
        if (ep + 1) % s.eval_every and not last:
            continue
        model.eval()
        with torch.no_grad():
            m = s.evaluate(model, xtr, ytr, xva, yva)
            if s.output_stats and not TRACE:
                babysit.log_output_stats(model(xva).reshape(yva.shape), yva, step=step - 1, split="val")
        model.train()
        full = m.pop("train_loss_full", None)
        row = dict(m)
        if s.loss_every == 0:
            row["loss"] = ep_loss / max(ep_n, 1)
            if s.log_lr:
                row["lr"] = opt.param_groups[0]["lr"]
        if "epoch" in s.keys:
            row["epoch"] = ep + 1
        log.log(row, step - 1, ep + 1)
        if TRACE:
            print("ep %3d step %5d lr %.3g loss %.4f full %s %s" % (
                ep, step, opt.param_groups[0]["lr"], ep_loss / max(ep_n, 1),
                "-" if full is None else "%.4f" % full,
                " ".join("%s=%.4f" % kv for kv in sorted(m.items()))), flush=True)
        summary.update(m)
        if sched is not None and s.sched_every == "plateau":
            sched.step(m["val_loss"])
        if s.early_stop:
            if m["val_loss"] < best - 1e-4:
                best, bad = m["val_loss"], 0
            else:
                bad += 1
                if bad >= s.early_stop:
                    break
    summary["steps"] = step
    log.finish()
    return summary


# ---- the cases --------------------------------------------------------------------------------

def _adam(lr, **kw):
    return lambda p: torch.optim.Adam(p, lr=lr, **kw)


def _sgd(lr, momentum=0.0, **kw):
    return lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum, **kw)


CE = nn.CrossEntropyLoss()
MSE = nn.MSELoss()
KERAS = {"loss": "loss", "val_loss": "val_loss", "val_acc": "val_accuracy", "train_acc": "accuracy"}
HF = {"loss": "train_loss", "val_loss": "eval_loss", "val_acc": "eval_accuracy", "lr": "learning_rate", "epoch": "epoch"}
LIGHTNING = {"loss": "train_loss_step", "val_loss": "val_loss", "val_acc": "val_acc", "train_acc": "train_acc_epoch"}


def _mlp(sizes, act=nn.ReLU, out=None):
    mods = []
    for i in range(len(sizes) - 2):
        mods += [nn.Linear(sizes[i], sizes[i + 1]), act()]
    mods.append(nn.Linear(sizes[-2], sizes[-1]))
    if out is not None:
        mods.append(out)
    return seq(*mods)


def _ranking_pairs(seed):
    xtr, ytr, xva, yva = diabetes_std(seed)
    r = np.random.RandomState(seed + 5)

    def pairs(x, y, n):
        i, j = r.randint(0, len(x), n), r.randint(0, len(x), n)
        keep = y[i] != y[j]
        i, j = i[keep], j[keep]
        return np.stack([x[i], x[j]], 1), np.sign(y[i] - y[j]).astype(np.float32)
    a, b = pairs(xtr, ytr, 4000)
    c, d = pairs(xva, yva, 1200)
    return a, b, c, d


def _rank_loss(out, y):
    return F.margin_ranking_loss(out[:, 0], out[:, 1], y, margin=1.0)


def _rank_eval(model, xtr, ytr, xva, yva):
    o = model(xva)
    return {"val_loss": float(_rank_loss(o, yva)), "val_acc": float(((o[:, 0] - o[:, 1]).sign() == yva).float().mean()),
            "train_loss_full": float(_rank_loss(model(xtr), ytr))}


def _triplet_hook(xb, yb, ep, step):
    return xb, yb


class TripletNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = seq(nn.Linear(64, 64), nn.PReLU(), nn.Linear(64, 16))

    def forward(self, x):
        return self.net(x)


def _triplet_loss(out, y):
    """Batch-all-ish triplets: for each anchor a random positive and a random negative of the batch."""
    n = len(y)
    same = y[:, None] == y[None, :]
    r = torch.rand(n, n)
    pos = torch.where(same & ~torch.eye(n, dtype=torch.bool), r, torch.full_like(r, -1)).argmax(1)
    neg = torch.where(~same, r, torch.full_like(r, -1)).argmax(1)
    return F.triplet_margin_loss(out, out[pos], out[neg], margin=1.0)


def _triplet_eval(model, xtr, ytr, xva, yva):
    etr, eva = model(xtr), model(xva)
    cent = torch.stack([etr[ytr == c].mean(0) for c in range(10)])
    pred = torch.cdist(eva, cent).argmin(1)
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    del g
    return {"val_loss": float(_triplet_loss(eva, yva)), "val_acc": float((pred == yva).float().mean()),
            "train_loss_full": float(_triplet_loss(etr, ytr))}


def _ae_loss(out, x):
    return ((out - x) ** 2).sum(1).mean()  # summed over the 64 pixels, averaged over the batch


def _ae_eval(model, xtr, ytr, xva, yva):
    return {"val_loss": float(_ae_loss(model(xva), xva)), "train_loss_full": float(_ae_loss(model(xtr), xtr))}


def _noise_hook(xb, yb, ep, step):
    return xb + 0.3 * torch.randn_like(xb), xb  # denoising: the clean input is the target


def build(case: str, seed: int) -> Spec:
    torch.manual_seed(seed)
    np.random.seed(seed)
    C = case

    # ---------------- healthy controls ----------------
    if C == "C9-H-RECSYS":
        return Spec(recsys(seed), MF(), lambda p: torch.optim.Adam(p, lr=0.01), MSE, reg_eval(), epochs=12,
                    batch_size=256, y_dtype=torch.float32, x_dtype=torch.long, surface="wandb", keys=HF,
                    step_mode="step", watch_every=None, loss_every=5, log_lr=True,
                    config={"model": "matrix factorisation dim 16", "lr": 0.01, "batch_size": 256, "epochs": 12})
    if C == "C9-H-TRIPLET":
        d = digits_flat(seed)
        return Spec(d, TripletNet(), _adam(1e-3), _triplet_loss, _triplet_eval, epochs=15, batch_size=64,
                    keys={"loss": "train/triplet", "val_loss": "val/triplet", "val_acc": "val/centroid_acc"},
                    watch_every=10, config={"loss": "TripletMarginLoss(margin=1)", "embedding_dim": 16, "lr": 1e-3,
                                            "batch_size": 64, "optimizer": "Adam"}, input_stats=True)
    if C == "C9-H-LBFGS-WINE":
        xs, y, vs, yv, _, _ = tabular(datasets.load_wine, seed)
        return Spec((xs, y, vs, yv), _mlp([13, 16, 3], nn.Tanh), lambda p: torch.optim.LBFGS(p, lr=0.1, max_iter=2,
                    history_size=10), CE, ce_eval(), epochs=25, batch_size=1000, closure_opt=True, surface="tb",
                    keys=KERAS, loss_every=0, watch_every=None,
                    config={"optimizer": "LBFGS", "lr": 0.1, "max_iter": 2, "full_batch": True})
    if C == "C9-H-HINGE-CANCER":
        xs, y, vs, yv, _, _ = tabular(datasets.load_breast_cancer, seed)
        hinge = nn.MultiMarginLoss()
        return Spec((xs, y, vs, yv), _mlp([30, 32, 2], nn.LeakyReLU), _sgd(0.02, 0.9),
                    hinge, ce_eval(hinge), epochs=20, batch_size=32, surface="trackio",
                    keys={"loss": "hinge_loss", "val_loss": "val/hinge", "val_acc": "val/accuracy", "train_acc": "train/accuracy"},
                    sched=lambda o, nb, e: torch.optim.lr_scheduler.ChainedScheduler([
                        torch.optim.lr_scheduler.ConstantLR(o, factor=0.3, total_iters=3),
                        torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.93)]),
                    watch_every=8, log_lr=True, config={"lr": 0.02, "batch_size": 32})
    if C == "C9-H-ADDING-GRU":
        return Spec(adding_problem(seed), GRUReg(), _adam(3e-3), MSE, reg_eval(), epochs=12, batch_size=50,
                    y_dtype=torch.float32, keys={"loss": "train/mse", "val_loss": "val/mse", "val_rmse": "val/rmse"},
                    loss_every=5, watch_every=20, step_mode="epoch",
                    config={"task": "adding problem T=20", "model": "GRU(48)", "optimizer": "Adam", "lr": 3e-3,
                            "batch_size": 50, "epochs": 12, "baseline_mse": 0.167})
    if C == "C9-H-SPECNORM-PARITY":
        m = seq(nn.utils.spectral_norm(nn.Linear(64, 128)), nn.ReLU(), nn.utils.spectral_norm(nn.Linear(128, 64)),
                nn.ReLU(), nn.Linear(64, 2))
        return Spec(digits_parity(seed), m, _sgd(0.01, 0.99), CE, ce_eval(), epochs=12, batch_size=64, surface="wandb",
                    keys=HF, loss_every=1, step_mode="none", watch_every=10, log_lr=True,
                    sched=lambda o, nb, e: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.3),
                    config={"task": "digit parity", "optimizer": "SGD", "momentum": 0.99, "lr": 0.01, "batch_size": 64,
                            "spectral_norm": True, "epochs": 12, "num_classes": 2})
    if C == "C9-H-RANKING":
        return Spec(_ranking_pairs(seed), Scorer(h=8), _adam(1e-3, weight_decay=1e-3), _rank_loss, _rank_eval,
                    epochs=4, batch_size=64, y_dtype=torch.float32, keys=LIGHTNING, loss_every=1,
                    watch_every=10, config={"loss": "MarginRankingLoss(margin=1)", "lr": 1e-3, "batch_size": 64, "weight_decay": 1e-3,
                                            "dataset": "diabetes pairs"})
    if C == "C9-H-TIED-DAE":
        d = digits_flat(seed)
        return Spec((d[0], d[0], d[2], d[2]), TiedAE(), _adam(3e-3), _ae_loss, _ae_eval, epochs=20, batch_size=32,
                    y_dtype=torch.float32, batch_hook=_noise_hook, surface="tb",
                    keys={"loss": "Loss/train", "val_loss": "Loss/val"}, loss_every=10, watch_every=12,
                    config={"model": "tied autoencoder 64-24", "noise": 0.3, "loss": "MSE summed over pixels"})
    if C == "C9-H-PLATEAU-MOONS":
        return Spec(noisy_moons(seed), _mlp([2, 64, 64, 2], nn.ELU), _adam(3e-3), CE, ce_eval(), epochs=25, batch_size=16,
                    keys={"loss": "train_loss", "val_loss": "valid_loss", "val_acc": "dev/acc", "lr": "lr"},
                    loss_every=5, watch_every=50, log_lr=True, sched_every="plateau",
                    sched=lambda o, nb, e: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.3, patience=2),
                    config={"optimizer": "Adam", "lr": 3e-3, "batch_size": 16, "scheduler": "ReduceLROnPlateau(patience=2)",
                            "noise": 0.35})
    if C == "C9-H-DIGITSUM-RES":
        m = seq(nn.Linear(128, 128), ResBlock(128), ResBlock(128), nn.Linear(128, 19))
        return Spec(digit_sums(seed), m, lambda p: torch.optim.AdamW(p, lr=2e-3, weight_decay=0.01), CE, ce_eval(),
                    epochs=10, batch_size=64, surface="wandb", keys={"loss": "train/loss", "val_loss": "val/loss",
                    "val_acc": "val/acc", "train_acc": "train/acc"}, watch_every=10,
                    sched=lambda o, nb, e: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=2e-3, total_steps=nb * e),
                    sched_every="batch", log_lr=True, loss_every=2,
                    config={"model": "residual GroupNorm GELU MLP", "num_classes": 19, "lr": 2e-3, "batch_size": 64,
                            "weight_decay": 0.01, "optimizer": "AdamW", "epochs": 10})
    raise KeyError(case)


def build_faulty(case: str, seed: int) -> Spec:
    C = case
    if C == "C9-NL-EPOCHLABELS":
        d = synth_cls(seed)

        def relabel(ep, opt, ytr):  # "label noise" augmentation with p=1.0: every label redrawn each epoch
            ytr.copy_(torch.randint(0, 5, ytr.shape))
        return Spec(d, _mlp([16, 64, 64, 5]), _adam(1e-3), CE, ce_eval(), epochs=15, batch_size=32, epoch_hook=relabel,
                    keys=KERAS, loss_every=1, watch_every=10, input_stats=True,
                    config={"optimizer": "Adam", "lr": 1e-3, "batch_size": 32, "label_noise": 1.0, "num_classes": 5})
    if C == "C9-NL-ONEROW":
        xs, y, vs, yv, _, _ = tabular(datasets.load_wine, seed)

        first = torch.tensor(xs[:1])

        def one_row(xb, yb, ep, step):  # collate bug: every row of every batch is the data set's first example
            return first.expand_as(xb).contiguous(), yb
        return Spec((xs, y, vs, yv), _mlp([13, 32, 3], nn.GELU), _adam(2e-3), CE, ce_eval(), epochs=40, batch_size=16,
                    batch_hook=one_row, surface="trackio", keys={"loss": "loss", "val_acc": "val_acc", "val_loss": "val_loss",
                    "train_acc": "train_acc"}, loss_every=1, watch_every=5, config={"lr": 2e-3, "batch_size": 16})
    if C == "C9-LOM-SIGMOID-DIABETES":
        d = datasets.load_diabetes()
        xtr, xva, ytr, yva = _split(d.data.astype(np.float32), (d.target / 100).astype(np.float32), seed, stratify=False)
        xtr, xva = _standardise(xtr, xva)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = _mlp([10, 32, 1], nn.ReLU, nn.Sigmoid())

            def forward(self, x):
                return self.body(x)[:, 0]
        return Spec((xtr, ytr, xva, yva), Net(), _adam(3e-3), MSE, reg_eval(), epochs=40, batch_size=32,
                    y_dtype=torch.float32, keys={"loss": "train/mse", "val_loss": "val/mse", "val_rmse": "val/rmse"},
                    loss_every=1, watch_every=5, output_stats=True, input_stats=True,
                    config={"task": "regression", "target": "disease progression / 100 (0.25..3.46)",
                            "output": "sigmoid", "lr": 3e-3, "batch_size": 32})
    if C == "C9-LOM-TANH-LOGITS":
        m = seq(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 19), nn.Tanh())
        return Spec(digit_sums(seed), m, _adam(2e-3), CE, ce_eval(), epochs=20, batch_size=64,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=10, surface="wandb",
                    config={"num_classes": 19, "lr": 2e-3, "batch_size": 64, "head": "Linear+Tanh"})
    if C == "C9-UNS-PARITY-CONCAT":
        xtr, ytr, xva, yva = digits_parity(seed)
        o = np.argsort(ytr, kind="stable")  # the "even" file then the "odd" file, concatenated
        return Spec((xtr[o], ytr[o], xva, yva), _mlp([64, 64, 2]), _sgd(0.05, 0.9), CE, ce_eval(), epochs=12,
                    batch_size=32, shuffle=False, keys=KERAS, loss_every=1, watch_every=5,
                    config={"lr": 0.05, "momentum": 0.9, "batch_size": 32, "shuffle": False, "num_classes": 2})
    if C == "C9-TVM-CENTRED-ONLY":
        _, y, _, yv, raw_tr, raw_va = tabular(datasets.load_breast_cancer, seed)
        mu, sd = raw_tr.mean(0), raw_tr.std(0) + 1e-8
        return Spec(((raw_tr - mu) / sd, y, raw_va, yv), _mlp([30, 32, 2]), _adam(1e-3), CE, ce_eval(), epochs=25,
                    batch_size=32, val_x_fn=lambda v: v - mu,  # the val pipeline centres but forgets to divide
                    surface="tb", keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc",
                                        "train_acc": "train/acc"}, loss_every=1, watch_every=10,
                    config={"lr": 1e-3, "batch_size": 32, "preprocessing": "StandardScaler"})
    if C == "C9-TVM-COLUMN-ORDER":
        xs, y, vs, yv, _, _ = tabular(datasets.load_wine, seed)
        return Spec((xs, y, vs, yv), _mlp([13, 48, 3], nn.ReLU), _adam(3e-3), CE, ce_eval(), epochs=30, batch_size=16,
                    val_x_fn=lambda v: np.ascontiguousarray(v[:, ::-1]),  # the val frame's columns in another order
                    surface="wandb", keys=KERAS, loss_every=0, watch_every=5, step_mode="none",
                    config={"lr": 3e-3, "batch_size": 16, "epochs": 30})
    if C == "C9-OR-RECSYS-WD":
        return Spec(recsys(seed), MF(), _adam(0.01, weight_decay=4e-3), MSE, reg_eval(),
                    epochs=12, batch_size=256, y_dtype=torch.float32, x_dtype=torch.long, surface="wandb", keys=HF,
                    watch_every=10, loss_every=5, log_lr=True,
                    config={"model": "matrix factorisation dim 16", "optimizer": "Adam", "lr": 0.01, "weight_decay": 4e-3,
                            "batch_size": 256})
    if C == "C9-MC-RARE":
        r = np.random.RandomState(seed)
        x = r.randn(2000, 16).astype(np.float32)  # rare events whose features barely tell them apart
        y = (r.rand(2000) < 1 / (1 + np.exp(2.7 - 0.35 * x[:, 0] - 0.25 * x[:, 1]))).astype(np.int64)
        d = (x[:1500], y[:1500], x[1500:], y[1500:])
        return Spec(d, _mlp([16, 32, 2]), _sgd(0.05, 0.9), CE, ce_eval(), epochs=15, batch_size=64,
                    keys={"loss": "loss", "val_loss": "val_loss", "val_acc": "val_acc"}, loss_every=1, watch_every=10,
                    label_stats=True, config={"lr": 0.05, "batch_size": 64, "num_classes": 2})
    if C == "C9-MC-DIABETES-TOP":
        d = datasets.load_diabetes()
        y = (d.target > np.percentile(d.target, 88)).astype(np.int64)
        xtr, xva, ytr, yva = _split(d.data[:, :2].astype(np.float32), y, seed)  # only age and sex were selected
        xtr, xva = _standardise(xtr, xva)
        return Spec((xtr, ytr, xva, yva), _mlp([2, 16, 2]), _adam(1e-3), CE, ce_eval(), epochs=30, batch_size=16,
                    surface="trackio", keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc",
                                             "train_acc": "train/acc"}, loss_every=1, watch_every=5,
                    config={"features": ["age", "sex"], "positive": "top 12% progression"})
    if C == "C9-UF-LINEAR-ADDING":
        a, b, c, d = adding_problem(seed)
        return Spec((a.reshape(len(a), -1), b, c.reshape(len(c), -1), d), seq(nn.Flatten(), nn.Linear(40, 1), nn.Flatten(0)),
                    _adam(3e-3), MSE, reg_eval(), epochs=12, batch_size=50, y_dtype=torch.float32,
                    keys={"loss": "train/mse", "val_loss": "val/mse", "val_rmse": "val/rmse"}, loss_every=5, watch_every=20,
                    config={"task": "adding problem T=20", "model": "linear on the flattened sequence", "lr": 3e-3,
                            "batch_size": 50, "baseline_mse": 0.167})
    if C == "C9-LRL-CHAINED-BATCH":
        xs, y, vs, yv, _, _ = tabular(datasets.load_breast_cancer, seed)
        return Spec((xs, y, vs, yv), _mlp([30, 32, 32, 2], nn.LeakyReLU), _sgd(0.01, 0.9), CE, ce_eval(), epochs=25,
                    batch_size=16, sched_every="batch",
                    sched=lambda o, nb, e: torch.optim.lr_scheduler.ChainedScheduler([
                        torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
                        torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)]),
                    surface="wandb", keys=HF, loss_every=1, log_lr=True, watch_every=5,
                    config={"lr": 0.01, "momentum": 0.9, "batch_size": 16, "scheduler": "ChainedScheduler(ConstantLR, ExponentialLR 0.8)"})
    if C == "C9-LRL-TINYCLIP":
        d = synth_cls(seed, classes=4)
        return Spec(d, _mlp([16, 64, 4]), _sgd(0.05, 0.9), CE, ce_eval(), epochs=20, batch_size=32, clip=1e-4,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=10, input_stats=True,
                    config={"lr": 0.05, "momentum": 0.9, "batch_size": 32, "clip_grad_norm": 1e-4, "num_classes": 4})
    if C == "C9-LRH-LR-JUMP":
        d = synth_cls(seed, classes=6, sep=2.0)

        def jump(ep, opt, ytr):  # meant to divide by 10 at epoch 6; multiplies by 100
            if ep == 6:
                for g_ in opt.param_groups:
                    g_["lr"] *= 100
        return Spec(d, _mlp([16, 64, 64, 6]), _adam(2e-3), CE, ce_eval(), epochs=14, batch_size=32, epoch_hook=jump,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc",
                          "lr": "lr"}, loss_every=1, log_lr=True, watch_every=10, surface="tb",
                    config={"lr": 2e-3, "batch_size": 32, "num_classes": 6})
    if C == "C9-LRH-MOMENTUM":
        d = noisy_moons(seed, noise=0.2)
        return Spec(d, _mlp([2, 32, 32, 2], nn.Tanh), _sgd(0.8, 0.95), CE, ce_eval(), epochs=15, batch_size=32,
                    keys={"loss": "loss", "val_loss": "val_loss", "val_acc": "val_accuracy"}, loss_every=1, watch_every=5,
                    config=None)  # no config logged at all
    if C == "C9-BS1-DIABETES":
        return Spec(diabetes_std(seed), _mlp([10, 32, 1], nn.ReLU), _sgd(0.005),
                    lambda o, y: MSE(o[:, 0], y), reg_eval(lambda o, y: MSE(o.reshape(y.shape), y)), epochs=4, batch_size=1,
                    y_dtype=torch.float32, surface="trackio", keys={"loss": "loss", "val_loss": "val_loss"},
                    loss_every=1, watch_every=10, config={"batch_size": 1, "lr": 0.005})
    if C == "C9-DIV-WARMUP-TOO-FAR":
        return Spec(diabetes_std(seed), _mlp([10, 64, 64, 1]), _sgd(1.5, 0.9),
                    lambda o, y: MSE(o[:, 0], y), reg_eval(lambda o, y: MSE(o.reshape(y.shape), y)), epochs=12,
                    batch_size=16, y_dtype=torch.float32, sched_every="batch",
                    sched=lambda o, nb, e: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.002, total_iters=nb * 4),
                    keys={"loss": "loss", "val_loss": "val_loss", "lr": "lr"}, loss_every=1, log_lr=True, watch_every=5,
                    config={"lr": 1.5, "momentum": 0.9, "warmup_epochs": 4, "batch_size": 16})
    if C == "C9-EXP-RESIDUAL-DEEP":
        return Spec(synth_cls(seed), DeepResidual(), _adam(1e-4), CE, ce_eval(), epochs=8, batch_size=32,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=5, surface="tb",
                    config={"model": "14 residual blocks x + relu(Wx), He init, no normalisation", "lr": 1e-4,
                            "optimizer": "Adam", "batch_size": 32, "num_classes": 5})
    if C == "C9-VG-TANH-XAVIER":
        xs, y, vs, yv, _, _ = tabular(datasets.load_breast_cancer, seed)
        m = _mlp([30] + [32] * 12 + [2], nn.Tanh)
        for mod in m:
            if isinstance(mod, nn.Linear):
                nn.init.xavier_uniform_(mod.weight, gain=0.4)
                nn.init.zeros_(mod.bias)
        return Spec((xs, y, vs, yv), m, _sgd(0.05, 0.9), CE, ce_eval(), epochs=20, batch_size=32,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=5, config={"depth": 12, "init": "xavier_uniform gain 0.4", "lr": 0.05})
    if C == "C9-DR-NEG-CONV":
        xtr, ytr, xva, yva = digits_parity(seed)
        d = datasets.load_digits()
        from sklearn.model_selection import train_test_split
        a, b, ya, yb = train_test_split((d.images / 16.0).astype(np.float32)[:, None], d.target % 2, test_size=0.25,
                                        random_state=seed, stratify=d.target % 2)
        return Spec((a, ya, b, yb), ConvNet(neg_init=True), _adam(1e-3), CE, ce_eval(), epochs=10, batch_size=32,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=5, surface="wandb",
                    config=None)
    if C == "C9-ST-BN-GAMMA":
        xs, y, vs, yv, _, _ = tabular(datasets.load_wine, seed)
        m = seq(nn.Linear(13, 64), nn.BatchNorm1d(64), nn.Tanh(), nn.Linear(64, 64), nn.BatchNorm1d(64), nn.Tanh(),
                nn.Linear(64, 3))
        for mod in m:
            if isinstance(mod, nn.BatchNorm1d):
                nn.init.constant_(mod.weight, 8.0)
        return Spec((xs, y, vs, yv), m, _sgd(0.01, 0.9), CE, ce_eval(), epochs=30, batch_size=16,
                    keys={"loss": "loss", "val_loss": "val_loss", "val_acc": "val_accuracy", "train_acc": "accuracy"},
                    loss_every=1, watch_every=5, config={"bn_gamma_init": 8.0, "lr": 0.01, "batch_size": 16})
    if C == "C9-BIL-WIDE-HEAD":
        m = seq(nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 19))
        nn.init.normal_(m[2].weight, 0, 1.0)
        return Spec(digit_sums(seed), m, _adam(1e-3), CE, ce_eval(), epochs=12, batch_size=64,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=10, surface="tb",
                    config={"num_classes": 19, "head_init": "normal(0, 1)", "lr": 1e-3, "batch_size": 64})
    if C == "C9-INN-DIABETES-RAW":
        return Spec(diabetes_std(seed, raw_x=True), _mlp([10, 64, 64, 1]), _adam(1e-3),
                    lambda o, y: MSE(o[:, 0], y), reg_eval(lambda o, y: MSE(o.reshape(y.shape), y)), epochs=40,
                    batch_size=32, y_dtype=torch.float32, keys={"loss": "train/loss", "val_loss": "val/loss"},
                    loss_every=1, watch_every=5, input_stats=True,
                    config={"dataset": "diabetes (scaled=False)", "lr": 1e-3, "batch_size": 32})
    if C == "C9-OF-DIGITSUM-SMALL":
        a, b, c, d = digit_sums(seed, n_train=160)
        return Spec((a, b, c, d), _mlp([128, 512, 512, 19]), _adam(1e-3), CE, ce_eval(), epochs=150, batch_size=32,
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=5, watch_every=25, eval_every=5,
                    config={"num_classes": 19, "train_size": 160, "lr": 1e-3, "batch_size": 32, "epochs": 150})
    if C == "C9-SYM-CONST-HIDDEN":
        d = synth_cls(seed, classes=4, sep=1.0)
        m = _mlp([16, 64, 64, 4], nn.ReLU)
        nn.init.constant_(m[2].weight, 0.02)
        nn.init.zeros_(m[2].bias)
        nn.init.constant_(m[4].weight, 0.02)
        nn.init.zeros_(m[4].bias)
        return Spec(d, m, _sgd(0.05, 0.9), CE, ce_eval(), epochs=20, batch_size=32, surface="trackio",
                    keys={"loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                    loss_every=1, watch_every=5, config={"init": "hidden and output layers constant 0.02"})
    raise KeyError(case)


def build_any(case: str, seed: int) -> Spec:
    try:
        return build(case, seed)
    except KeyError:
        torch.manual_seed(seed)
        np.random.seed(seed)
        return build_faulty(case, seed)


# ---- labels -----------------------------------------------------------------------------------

def _control(fault):
    return dict(fault=fault, must=[], allowed=[], control=True, source="healthy control")


def _fault(fault, must, allowed=(), source=""):
    rest = [c for c in ALL_CODES if c not in must and c not in allowed]
    return dict(fault=fault, must=list(must), allowed=list(allowed), must_not=rest, control=False, source=source)


CASES: Dict[str, dict] = {
    # healthy controls (hard-but-fine ones included): nothing outside `allowed` may be raised
    "C9-H-RECSYS": _control("matrix factorisation recommender on a rank-4 rating matrix, Adam; logged via babysit.wandb with HF "
                            "Trainer keys (train_loss/eval_loss/learning_rate/epoch), no watch (control)"),
    "C9-H-TRIPLET": _control("metric learning on digits with a triplet margin loss (floors near 0.1), nearest-centroid val "
                             "accuracy 0.9 (control)"),
    "C9-H-LBFGS-WINE": _control("full-batch LBFGS on wine, 25 steps, Keras keys once an epoch via babysit.tensorboard (control)"),
    "C9-H-HINGE-CANCER": _control("multi-class hinge loss (MultiMarginLoss, starts ~0.6 not ln 2) on breast cancer, SGD momentum, "
                                  "ChainedScheduler(ConstantLR warmup, ExponentialLR), via babysit.trackio (control)"),
    "C9-H-ADDING-GRU": _control("GRU on the adding problem: the MSE sits at the 0.16 baseline for 3 epochs, then drops to 0.003 "
                                "(control)"),
    "C9-H-SPECNORM-PARITY": _control("spectral-norm MLP on digit parity, SGD momentum 0.99 with StepLR, via babysit.wandb without "
                                     "step (control)"),
    "C9-H-RANKING": _control("pairwise MarginRankingLoss on diabetes pairs, short run (4 epochs), Lightning keys (control)"),
    "C9-H-TIED-DAE": _control("tied-weight denoising autoencoder on digits, MSE summed over 64 pixels (starts ~50), no classes "
                              "(control)"),
    "C9-H-PLATEAU-MOONS": _control("ELU MLP on very noisy moons (noise 0.35), 1875 steps at batch 16, ReduceLROnPlateau cuts the lr "
                                   "5 times; val loss floors at 0.32 (control)"),
    "C9-H-DIGITSUM-RES": _control("residual GroupNorm/GELU MLP on pairs of digits -> their sum (19 classes), AdamW + OneCycle per "
                                  "batch (control)"),
    # faulty programs
    "C9-NL-EPOCHLABELS": _fault("label-noise augmentation with p=1.0: every training label redrawn at random each epoch; loss "
                                "at ln 5 all run, val acc at chance", ["no_learning"],
                                ["loss_plateau", "underfitting", "lr_too_low"], "DFD data; UM wrong labels"),
    "C9-NL-ONEROW": _fault("collate bug: every row of every batch is the data set's first example; loss at the prior entropy, "
                           "accuracy near chance", ["no_learning"],
                           ["loss_plateau", "underfitting", "majority_class", "lr_too_low", "noisy_loss"], "TDC constant input"),
    "C9-LOM-SIGMOID-DIABETES": _fault("sigmoid on a regression output whose targets are 0.25..3.46: the MSE floors at 0.78, above "
                                      "the targets' variance", ["loss_output_mismatch"],
                                      ["underfitting", "loss_plateau", "saturated_activations", "no_learning"],
                                      "DFD act; AT last-layer activation"),
    "C9-LOM-TANH-LOGITS": _fault("tanh on the 19 logits before CrossEntropyLoss: train acc 0.92 while the loss floors near 1.4",
                                 ["loss_output_mismatch"], ["underfitting", "loss_plateau", "saturated_activations",
                                                            "overfitting"], "TDC last-layer activation"),
    "C9-UNS-PARITY-CONCAT": _fault("digit parity trained on the 'even' rows then the 'odd' rows (concatenated, shuffle=False), "
                                   "SGD momentum: sawtooth loss, accuracy at 0.5", ["unshuffled_data"],
                                   ["noisy_loss", "loss_plateau", "underfitting", "no_learning", "majority_class",
                                    "lr_too_high", "divergence", "exploding_gradients", "dead_relu", "overfitting"],
                                   "TDC unshuffled data"),
    "C9-TVM-CENTRED-ONLY": _fault("validation features centred but not divided by the std (scaler half applied): val loss 13 "
                                  "vs train 0.05 at val acc 0.89", ["train_val_mismatch"],
                                  ["overfitting", "input_not_normalized"], "TDC normalisation family (pipeline mismatch)"),
    "C9-TVM-COLUMN-ORDER": _fault("validation columns in another order than training (a frame column-order bug): train acc 1.0, "
                                  "val acc ~0.5 from the first epoch", ["train_val_mismatch"], ["overfitting"],
                                  "TDC pipeline mismatch"),
    "C9-OR-RECSYS-WD": _fault("Adam weight_decay 4e-3 (L2) on a recommender's embeddings (otherwise C9-H-RECSYS): their norm "
                              "falls 6.9 -> ~1-4, the MSE stays at 0.88-0.97 where the control reaches 0.05",
                              ["over_regularization"],
                              ["underfitting", "loss_plateau", "no_learning", "lr_too_low", "lr_too_high", "vanishing_gradients"],
                              "TDC over_regularization; DEF Regularization"),
    "C9-MC-RARE": _fault("~7 % rare events whose 16 features barely tell them apart: accuracy pinned at the majority share (0.93), "
                         "loss at the prior entropy; log_label_stats sent", ["majority_class"],
                         ["loss_plateau", "underfitting", "no_learning", "overfitting", "lr_too_low"],
                         "TDC unbalanced_data"),
    "C9-MC-DIABETES-TOP": _fault("'top 12 % progression' from age and sex only: the model answers 'not top' (acc 0.88, loss "
                                 "0.36 = the prior entropy)", ["majority_class"],
                                 ["loss_plateau", "underfitting", "no_learning", "lr_too_low"], "TDC unbalanced_data"),
    "C9-UF-LINEAR-ADDING": _fault("a linear model on the adding problem: train and val MSE track each other at 0.15, just "
                                  "under the 0.167 baseline", ["underfitting"],
                                  ["loss_plateau", "no_learning", "lr_too_low"], "DEF model capacity"),
    "C9-LRL-CHAINED-BATCH": _fault("ChainedScheduler(ConstantLR, ExponentialLR(0.8)) stepped every batch: lr 1e-8 after 2 epochs, "
                                   "the loss frozen at 0.67", ["lr_too_low"],
                                   ["loss_plateau", "underfitting", "no_learning", "majority_class"], "DEF LR root cause"),
    "C9-LRL-TINYCLIP": _fault("clip_grad_norm_(max_norm=1e-4) with SGD: every update is ~1e-5 long, the loss creeps 1.42 -> 1.40 "
                              "over 940 steps", ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"],
                              "DFD lr/optimizer; clipping misuse"),
    "C9-LRH-LR-JUMP": _fault("an lr edit meant to divide by 10 multiplies by 100 at epoch 6 (Adam 0.002 -> 0.2): accuracy "
                             "0.97 -> chance", ["lr_too_high"],
                             ["dead_relu", "no_learning", "loss_plateau", "underfitting", "divergence", "noisy_loss",
                              "exploding_gradients", "majority_class"], "AT lr; DFD lr"),
    "C9-LRH-MOMENTUM": _fault("SGD lr 0.8 with momentum 0.95 on a tanh MLP: the loss jumps between 0.3 and 20, accuracy "
                              "between 0.5 and 0.88", ["lr_too_high"],
                              ["noisy_loss", "divergence", "exploding_gradients", "saturated_activations", "loss_plateau",
                               "underfitting", "no_learning"], "AT oscillating loss"),
    "C9-BS1-DIABETES": _fault("batch size 1 on a regression (per-sample squared errors logged every step)", ["noisy_loss"],
                              ["loss_plateau"], "AT OL; DFD batch size"),
    "C9-DIV-WARMUP-TOO-FAR": _fault("a linear warmup to lr 1.5 (SGD momentum 0.9): the loss is NaN once the lr passes ~0.4",
                                    ["divergence"], ["lr_too_high", "exploding_gradients", "loss_plateau"],
                                    "AT NaN; DD numerical errors"),
    "C9-EXP-RESIDUAL-DEEP": _fault("14 un-normalised residual blocks (x + relu(Wx), He init): activations and gradients grow "
                                   "~2x per block, first loss 230 (ln 5 = 1.6)", ["exploding_gradients", "bad_initial_loss"],
                                   ["underfitting", "loss_plateau", "lr_too_low", "divergence", "dead_relu", "noisy_loss"],
                                   "AT EG; DFD init"),
    "C9-VG-TANH-XAVIER": _fault("12 tanh layers with xavier gain 0.4: gradients vanish, the loss sits at the prior entropy "
                                "(accuracy = majority)", ["vanishing_gradients"],
                                ["no_learning", "majority_class", "loss_plateau", "underfitting", "lr_too_low"], "AT VG"),
    "C9-DR-NEG-CONV": _fault("conv filters initialised around -0.1 on 0..1 pixels: every ReLU is zero, loss ln 2, acc 0.5",
                             ["dead_relu"], ["no_learning", "vanishing_gradients", "loss_plateau", "underfitting",
                                             "lr_too_low", "majority_class"], "AT DR; TDC dead units"),
    "C9-ST-BN-GAMMA": _fault("BatchNorm gamma initialised to 8 before tanh: the tanh units sit at +-1", ["saturated_activations"],
                             ["noisy_loss", "vanishing_gradients", "overfitting"], "AT saturated activations"),
    "C9-BIL-WIDE-HEAD": _fault("output layer on 512 hidden units initialised N(0, 1): first loss 12.8 vs ln 19 = 2.94",
                               ["bad_initial_loss"], ["overfitting"], "TDC poor init"),
    "C9-INN-DIABETES-RAW": _fault("diabetes with scaled=False: raw columns (age 19-79, blood serum 60-300) into the MLP",
                                  ["input_not_normalized"], ["bad_initial_loss", "noisy_loss", "overfitting"],
                                  "TDC unnormalised input"),
    "C9-OF-DIGITSUM-SMALL": _fault("160 digit pairs, 512-unit MLP, 150 epochs: train acc 1.0, val loss 2.9 -> 6.0",
                                   ["overfitting"], ["loss_plateau"], "AT overfitting"),
    "C9-SYM-CONST-HIDDEN": _fault("hidden and output layers initialised to the constant 0.02: the 64 second-layer units stay "
                                  "identical, accuracy capped near 0.75", ["symmetric_init"],
                                  ["underfitting", "loss_plateau", "noisy_loss", "overfitting"], "TDC symmetric init"),
}


def label(case: str, seed: int) -> dict:
    return label_of(CASES, case, seed)


if __name__ == "__main__":
    main(build_any, train)

"""corpus7: a held-out set of faulty training programs and healthy controls, written without reading the rules.

Other tasks, models, optimizers and logging habits than corpora 2-6: spirals, checkerboards, sequence
reversal and symbol counting, per-pixel segmentation of tiny synthetic images, siamese digit pairs,
knowledge distillation (KLDivLoss), focal loss, quantile (pinball) and Poisson regression, tabular data
with categorical embeddings; DenseNet-style MLPs, a tiny U-Net, an MLP-Mixer, RBF layers, GLU units, a
ReLU RNN; Adagrad, ASGD, Rprop, SGD with PolynomialLR / OneCycle(cycle_momentum) / MultiplicativeLR /
LambdaLR / CosineAnnealingWarmRestarts. Logged through babysit itself or through its drop-ins
(``babysit.wandb``, ``babysit.tensorboard.SummaryWriter``, ``babysit.trackio``) with the keys users
of those trackers write.

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs7.py C7-H-SPIRAL-DENSE 0
Per-epoch numbers without a server:  PROGRAMS7_TRACE=1 BABYSIT_MODE=disabled ... (same command)
Record them:   PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs7 --seeds 0,1
Labels (``CASES``) were written from the programs and their own printed numbers, not from babysit.
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
from programs import ALL_CODES, Data, _split, _standardise, label_of, main

torch.set_num_threads(1)
TRACE = os.environ.get("PROGRAMS7_TRACE") == "1"


# ---- data ---------------------------------------------------------------------------------------

def spirals(seed, n=1500, arms=3, noise=0.25, sort=False):
    r = np.random.RandomState(seed)
    y = np.repeat(np.arange(arms), n // arms)
    t = r.uniform(0.3, 3.2, len(y))
    ang = t * 1.6 + y * 2 * np.pi / arms
    x = np.stack([t * np.cos(ang), t * np.sin(ang)], 1) + noise * r.randn(len(y), 2)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    if sort:
        o = np.argsort(ytr, kind="stable")
        xtr, ytr = xtr[o], ytr[o]
    return Data(xtr, ytr, xva, yva, "synthetic %d-arm spirals (noise %g), standardised" % (arms, noise), arms)


def checkerboard(seed, n=2000, k=4, sort=False):
    r = np.random.RandomState(seed)
    x = r.uniform(0, k, (n, 2))
    y = (np.floor(x[:, 0]).astype(int) + np.floor(x[:, 1]).astype(int)) % 2
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    if sort:
        o = np.argsort(ytr, kind="stable")
        xtr, ytr = xtr[o], ytr[o]
    return Data(xtr, ytr, xva, yva, "synthetic %dx%d checkerboard, standardised" % (k, k), 2)


def seq_reverse(seed, n=3000, length=6, vocab=8, second_draw=False):
    """One-hot token sequences flattened (N, L*V); target: the sequence reversed (N, L)."""
    r = np.random.RandomState(seed)
    tok = r.randint(0, vocab, (n, length))
    x = np.eye(vocab, dtype=np.float32)[tok].reshape(n, -1)
    y = tok[:, ::-1].copy()
    if second_draw:  # the bug: targets reversed from a second draw of the generator, not from x
        y = r.randint(0, vocab, (n, length))[:, ::-1].copy()
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "synthetic sequence reversal (length %d, vocab %d), one-hot" % (length, vocab), vocab)


def seq_count(seed, n=2000, length=12, vocab=4):
    """Token ids (N, L) as floats; label: how many times token 0 occurs, capped at 5 (6 classes)."""
    r = np.random.RandomState(seed)
    tok = r.randint(0, vocab, (n, length))
    y = np.minimum((tok == 0).sum(1), 5)
    xtr, xva, ytr, yva = _split(tok.astype(np.float32), y, seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "synthetic symbol counting (length %d, vocab %d)" % (length, vocab), 6)


def seg_images(seed, n=600, size=16):
    """uint8-range images with one bright disc or rectangle on noise; the target is its pixel mask."""
    r = np.random.RandomState(seed)
    yy, xx = np.mgrid[:size, :size]
    imgs = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        cy, cx = r.uniform(4, size - 4, 2)
        if r.rand() < 0.5:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 < r.uniform(2, 4.5) ** 2
        else:
            h, w = r.uniform(2, 5, 2)
            m = (abs(yy - cy) < h) & (abs(xx - cx) < w)
        masks[i, 0] = m
        imgs[i, 0] = np.clip(60 + 110 * m + 40 * r.randn(size, size), 0, 255)
    xtr, xva, ytr, yva = _split(imgs, masks, seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "synthetic 16x16 blob images (0..255) with pixel masks", 2)


def _digits01(seed):
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    return xtr, xva, ytr, yva


def digits_std(seed):
    xtr, xva, ytr, yva = _digits01(seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "sklearn digits, 64 pixels standardised", 10)


def digit_pairs(seed, n_tr=3000, n_va=800, reshuffle=False):
    """Pairs (N, 2, 64) of standardised digits; label 1 when both show the same digit (half the pairs)."""
    d = digits_std(seed)
    r = np.random.RandomState(seed + 11)

    def make(x, y, n, reshuffle):
        a = r.randint(0, len(x), n)
        same = r.rand(n) < 0.5
        b = np.empty(n, int)
        for i in range(n):
            pool = np.flatnonzero((y == y[a[i]]) == same[i])
            b[i] = pool[r.randint(len(pool))]
        lab = (y[a] == y[b]).astype(int)
        if reshuffle:  # the bug: the second list is shuffled again after the labels were computed
            b = r.permutation(b)
        return np.stack([x[a], x[b]], 1), lab

    xtr, ytr = make(d.xtr, d.ytr, n_tr, reshuffle)
    xva, yva = make(d.xva, d.yva, n_va, False)  # validation pairs are built right
    return Data(xtr, ytr, xva, yva, "siamese pairs of sklearn digits (same digit or not)", 2)


def catemb(seed, n=3000, weights=(0.6, 0.4), signal=1.0, raw=False):
    """3 categorical columns (cardinality 6, 4, 10) then 4 numeric ones (income, age, hours, capital)."""
    r = np.random.RandomState(seed)
    cats = np.stack([r.randint(0, 6, n), r.randint(0, 4, n), r.randint(0, 10, n)], 1)
    income = np.exp(r.normal(10.5, 0.6, n))
    age = r.uniform(18, 80, n)
    hours = np.clip(r.normal(40, 10, n), 5, 90)
    capital = np.where(r.rand(n) < 0.1, r.exponential(5000, n), 0.0)
    effects = [r.randn(6), r.randn(4), r.randn(10)]
    z = (sum(e[cats[:, j]] for j, e in enumerate(effects)) + 1.2 * (np.log(income) - 10.5) / 0.6
         - 0.8 * ((age - 45) / 18) ** 2 + 0.5 * (hours - 40) / 10 + 0.6 * (capital > 0))
    z = signal * z + r.randn(n)
    y = (z > np.quantile(z, weights[0])).astype(int)
    num = np.stack([income, age, hours, capital], 1).astype(np.float32)
    xtr, xva, ytr, yva = _split(np.concatenate([cats.astype(np.float32), num], 1), y, seed)
    if not raw:
        ntr, nva = _standardise(xtr[:, 3:], xva[:, 3:])
        xtr, xva = np.concatenate([xtr[:, :3], ntr], 1), np.concatenate([xva[:, :3], nva], 1)
    return Data(xtr, ytr, xva, yva, "synthetic census-like tabular data, 3 categorical + 4 numeric columns%s, weights %s"
                % (" (numeric raw)" if raw else " (numeric standardised)", list(weights)), 2)


def quantile_data(seed, n=2000):
    r = np.random.RandomState(seed)
    x = r.uniform(-3, 3, (n, 4)).astype(np.float32)
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] + (0.2 + 0.4 * np.abs(x[:, 2])) * r.randn(n)
    xtr, xva, ytr, yva = _split(x, y.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "synthetic heteroscedastic regression (4 features), x and y standardised", None)


def poisson_data(seed, n=2000):
    r = np.random.RandomState(seed)
    x = r.randn(n, 6).astype(np.float32)
    rate = np.exp(0.8 + 0.4 * x[:, 0] - 0.3 * x[:, 1] + 0.25 * x[:, 2] * x[:, 3])
    y = r.poisson(rate).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    return Data(xtr, ytr, xva, yva, "synthetic Poisson counts (6 features, mean ~2.5)", None)


def noisy_small(seed):
    x, y = datasets.make_classification(n_samples=260, n_features=15, n_informative=5, n_redundant=3, flip_y=0.15,
                                        class_sep=1.0, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, 260 samples, 15 % flipped labels", 2)


def imbalanced_sep(seed, weights=(0.87, 0.13)):
    x, y = datasets.make_classification(n_samples=2000, n_features=10, n_informative=5, n_redundant=2, weights=list(weights),
                                        class_sep=1.2, flip_y=0.01, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, weights %s, separable" % list(weights), 2)


# ---- models -------------------------------------------------------------------------------------

class DenseMLP(nn.Module):
    """DenseNet-style MLP: each layer sees the input and every earlier layer's output, concatenated."""

    def __init__(self, inp, classes, growth=24, layers=3, act=nn.ReLU):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(inp + i * growth, growth) for i in range(layers)])
        self.acts = nn.ModuleList([act() for _ in range(layers)])
        self.out = nn.Linear(inp + layers * growth, classes)

    def forward(self, x):
        for fc, act in zip(self.fcs, self.acts):
            x = torch.cat([x, act(fc(x))], 1)
        return self.out(x)


class TinyUNet(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.enc1 = nn.Conv2d(1, ch, 3, padding=1)
        self.act1 = nn.ReLU()
        self.enc2 = nn.Conv2d(ch, 2 * ch, 3, padding=1)
        self.act2 = nn.ReLU()
        self.up = nn.ConvTranspose2d(2 * ch, ch, 2, stride=2)
        self.dec = nn.Conv2d(2 * ch, ch, 3, padding=1)
        self.act3 = nn.ReLU()
        self.out = nn.Conv2d(ch, 1, 1)

    def forward(self, x):
        e1 = self.act1(self.enc1(x))
        e2 = self.act2(self.enc2(F.max_pool2d(e1, 2)))
        d = self.act3(self.dec(torch.cat([self.up(e2), e1], 1)))
        return self.out(d)


class MixerBlock(nn.Module):
    def __init__(self, tokens, dim, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.tok1 = nn.Linear(tokens, hidden)
        self.tok_act = nn.GELU()
        self.tok2 = nn.Linear(hidden, tokens)
        self.norm2 = nn.LayerNorm(dim)
        self.ch1 = nn.Linear(dim, hidden)
        self.ch_act = nn.GELU()
        self.ch2 = nn.Linear(hidden, dim)

    def forward(self, x):  # x: N, tokens, dim
        x = x + self.tok2(self.tok_act(self.tok1(self.norm1(x).transpose(1, 2)))).transpose(1, 2)
        return x + self.ch2(self.ch_act(self.ch1(self.norm2(x))))


class Mixer(nn.Module):
    """MLP-Mixer on 8x8 digits cut into 16 patches of 2x2."""

    def __init__(self, classes=10, dim=32, hidden=32, depth=2):
        super().__init__()
        self.embed = nn.Linear(4, dim)
        self.blocks = nn.Sequential(*[MixerBlock(16, dim, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, classes)

    def forward(self, x):
        p = x.view(-1, 4, 2, 4, 2).permute(0, 1, 3, 2, 4).reshape(-1, 16, 4)
        return self.out(self.norm(self.blocks(self.embed(p))).mean(1))


class RBFNet(nn.Module):
    def __init__(self, inp, centres, classes):
        super().__init__()
        self.centres = nn.Parameter(torch.randn(centres, inp))
        self.log_width = nn.Parameter(torch.zeros(centres))
        self.out = nn.Linear(centres, classes)

    def forward(self, x):
        d2 = ((x[:, None, :] - self.centres[None]) ** 2).sum(-1)
        return self.out(torch.exp(-d2 * torch.exp(-2 * self.log_width)))


class GLUMLP(nn.Module):
    """Gated linear units: Linear(2h) -> GLU, twice, then the head."""

    def __init__(self, inp, hidden, outputs, dropout=0.0):
        super().__init__()
        self.fc1 = nn.Linear(inp, 2 * hidden)
        self.fc2 = nn.Linear(hidden, 2 * hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, outputs)

    def forward(self, x):
        h = F.glu(self.fc1(x), -1)
        h = self.drop(F.glu(self.fc2(h), -1))
        return self.out(h)


class CatEmbNet(nn.Module):
    """Embeddings for the 3 categorical columns, concatenated with the numeric ones, then an MLP."""

    def __init__(self, hidden=32, classes=2, glu=False):
        super().__init__()
        self.emb = nn.ModuleList([nn.Embedding(6, 3), nn.Embedding(4, 2), nn.Embedding(10, 4)])
        self.body = GLUMLP(13, hidden, classes) if glu else None
        if not glu:
            self.fc1 = nn.Linear(13, hidden)
            self.act1 = nn.ReLU()
            self.fc2 = nn.Linear(hidden, hidden)
            self.act2 = nn.ReLU()
            self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        c = x[:, :3].long()
        h = torch.cat([e(c[:, i]) for i, e in enumerate(self.emb)] + [x[:, 3:]], 1)
        if self.body is not None:
            return self.body(h)
        return self.out(self.act2(self.fc2(self.act1(self.fc1(h)))))


class Siamese(nn.Module):
    def __init__(self, hidden=64, emb=32):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.act1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, emb)
        self.head = nn.Linear(2 * emb, 2)

    def embed(self, x):
        return self.fc2(self.act1(self.fc1(x)))

    def forward(self, x):
        a, b = self.embed(x[:, 0]), self.embed(x[:, 1])
        return self.head(torch.cat([(a - b).abs(), a * b], 1))


class CountRNN(nn.Module):
    def __init__(self, hidden=48, gain=None):
        super().__init__()
        self.emb = nn.Embedding(4, 8)
        self.rnn = nn.RNN(8, hidden, batch_first=True, nonlinearity="relu")
        self.out = nn.Linear(hidden, 6)
        if gain is not None:
            with torch.no_grad():
                nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=gain)
                self.rnn.weight_ih_l0.mul_(gain)

    def forward(self, x):
        _, h = self.rnn(self.emb(x.long()))
        return self.out(h[-1])


def seq_mlp(inp, hidden, outputs, act=nn.ReLU, layers=1, dropout=0.0):
    mods = []
    for i in range(layers):
        mods += [nn.Linear(inp if i == 0 else hidden, hidden), act()]
        if dropout:
            mods.append(nn.Dropout(dropout))
    return nn.Sequential(*mods, nn.Linear(hidden, outputs))


# ---- losses and metrics -------------------------------------------------------------------------

def ce(out, y):
    return F.cross_entropy(out, y)


def seq_ce(out, y):  # out: N, L*V logits; y: N, L
    return F.cross_entropy(out.view(len(y), y.shape[1], -1).transpose(1, 2), y)


def seq_acc(out, y):
    return float((out.view(len(y), y.shape[1], -1).argmax(-1) == y).float().mean())


def acc(out, y):
    return float((out.argmax(1) == y).float().mean())


def pixel_acc(out, y):
    return float(((out > 0).float() == y).float().mean())


def pinball(q):
    def loss(out, y):
        e = y - out
        return torch.maximum(q * e, (q - 1) * e).mean()
    return loss


def focal(gamma=2.0):
    def loss(out, y):
        logp = F.log_softmax(out, 1).gather(1, y[:, None])[:, 0]
        return (-(1 - logp.exp()) ** gamma * logp).mean()
    return loss


def distill(alpha=0.7, temp=3.0):
    """y: column 0 the label, then the teacher's logits."""
    def loss(out, y):
        lab, t = y[:, 0].long(), y[:, 1:]
        kd = F.kl_div(F.log_softmax(out / temp, 1), F.softmax(t / temp, 1), reduction="batchmean") * temp ** 2
        return alpha * kd + (1 - alpha) * F.cross_entropy(out, lab)
    return loss


def distill_probs(out, y):
    # the bug: KLDivLoss wants log-probabilities; the student hands it probabilities
    return F.kl_div(F.softmax(out, 1), F.softmax(y[:, 1:] / 3.0, 1), reduction="batchmean")


def distill_acc(out, y):
    return float((out.argmax(1) == y[:, 0].long()).float().mean())


# ---- loggers: babysit itself and its drop-ins for wandb, TensorBoard and trackio -----------------

class Logger:
    def __init__(self, kind: str, name: str, config: Dict[str, object]):
        self.kind = kind
        if kind == "wandb":
            import babysit.wandb as wandb
            self.mod = wandb
            wandb.init(project="corpus7", name=name, config=config)
        elif kind == "tb":
            from babysit.tensorboard import SummaryWriter
            self.w = SummaryWriter("runs/" + name, project="corpus7", name=name, config=config)
        elif kind == "trackio":
            import babysit.trackio as trackio
            self.mod = trackio
            trackio.init(project="corpus7", name=name, config=config)
        else:
            babysit.init(project="corpus7", name=name, config=config)

    def watch(self, model, opt, every):
        if self.kind == "wandb":
            self.mod.watch(model, log="all", log_freq=every * 20)
        elif self.kind != "tb":  # trackio users add babysit's one extra call
            babysit.watch(model, opt, every=every)

    def log(self, row: Dict[str, float], step: int):
        if self.kind == "tb":
            for k, v in row.items():
                self.w.add_scalar(k, v, step)
        elif self.kind in ("wandb", "trackio"):
            self.mod.log(row, step=step)
        else:
            babysit.log(row, step=step)

    def histograms(self, model, step):
        if self.kind == "tb":
            for n, p in model.named_parameters():
                if p.dim() > 1:
                    self.w.add_histogram("weights/" + n, p.detach(), step)

    def finish(self):
        if self.kind == "tb":
            self.w.close()
        elif self.kind in ("wandb", "trackio"):
            self.mod.finish()
        else:
            babysit.finish()


# ---- the training loop --------------------------------------------------------------------------

@dataclass
class Program:
    data: Data
    model: nn.Module
    architecture: str
    loss: Callable = ce
    loss_name: str = "CrossEntropyLoss"
    metric: Optional[Callable] = acc  # None: no accuracy (regression)
    optimizer: Callable = None  # params -> optimizer
    optimizer_name: str = "Adam"
    lr: float = 1e-3
    epochs: int = 10
    batch_size: int = 32
    shuffle: bool = True
    schedule: Optional[Callable] = None  # (opt, steps per epoch, epochs) -> scheduler
    schedule_name: str = ""
    per_batch: bool = False  # the scheduler stepped in the batch loop
    penalty: Optional[Callable] = None  # model -> extra loss term (added to the logged loss)
    val_x: Optional[np.ndarray] = None
    train_x: Optional[np.ndarray] = None  # what the net is fed when the pipeline changes the data (e.g. /255)
    logger: str = "babysit"
    keys: Dict[str, str] = field(default_factory=dict)
    log_every: int = 1  # 0: the epoch's mean once an epoch
    acc_style: str = "frac"  # frac / percent / err (error rate)
    watch_every: Optional[int] = 10
    log_lr: bool = False
    input_stats: bool = False
    label_stats: bool = False
    output_stats: bool = False
    tb_histograms: bool = False
    extra_config: Dict[str, object] = field(default_factory=dict)


KEYS = {"loss": "train/loss", "train_acc": "train/acc", "val_loss": "val/loss", "val_acc": "val/acc"}


def run(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    regression = p.metric is None
    xtr = torch.tensor(p.train_x if p.train_x is not None else d.xtr, dtype=torch.float32)
    xva = torch.tensor(p.val_x if p.val_x is not None else d.xva, dtype=torch.float32)
    ydt = torch.float32 if (regression or d.ytr.dtype.kind == "f") else torch.long
    ytr, yva = torch.tensor(d.ytr, dtype=ydt), torch.tensor(d.yva, dtype=ydt)
    model = p.model
    opt = p.optimizer(model.parameters()) if p.optimizer else torch.optim.Adam(model.parameters(), lr=p.lr)
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    sched = p.schedule(opt, nb, p.epochs) if p.schedule else None
    config: Dict[str, object] = {
        "model": p.architecture, "dataset": d.name, "optimizer": p.optimizer_name, "lr": p.lr,
        "batch_size": p.batch_size, "epochs": p.epochs, "shuffle": p.shuffle, "loss": p.loss_name,
        "train_size": n, "val_size": len(xva), "seed": seed,
    }
    if p.schedule_name:
        config["lr_schedule"] = p.schedule_name
    if not regression and d.num_classes:
        config["num_classes"] = d.num_classes
    config.update(p.extra_config)
    log = Logger(p.logger, "%s-s%d" % (case.lower(), seed), config)
    if p.input_stats:
        babysit.log_input_stats(xtr[:, 3:] if "categorical" in d.name else xtr.flatten(1))
    if p.label_stats:
        babysit.log_label_stats(ytr, num_classes=d.num_classes)
    if p.watch_every:
        log.watch(model, opt, p.watch_every)
    key = dict(KEYS, **p.keys)
    g = torch.Generator().manual_seed(seed)
    step = 0
    summary: Dict[str, float] = {}
    pending: list = []
    has_bn = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())

    def score(v):
        return {"percent": 100.0 * v, "err": 1.0 - v}.get(p.acc_style, v)

    for ep in range(p.epochs):
        model.train()
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        gmax = 0.0
        for b in range(nb):
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            if has_bn and len(idx) < 2:
                continue
            loss = p.loss(model(xtr[idx]), ytr[idx])
            if p.penalty is not None:
                loss = loss + p.penalty(model)
            opt.zero_grad()
            loss.backward()
            if TRACE:
                gmax = max(gmax, float(torch.norm(torch.stack([q.grad.norm() for q in model.parameters() if q.grad is not None]))))
            opt.step()
            if sched is not None and p.per_batch:
                sched.step()
            pending.append(float(loss))
            if p.log_every and len(pending) == p.log_every:
                row = {key["loss"]: sum(pending) / len(pending)}
                if p.log_lr:
                    row["lr"] = opt.param_groups[0]["lr"]
                log.log(row, step)
                pending = []
            if step == 0:
                summary["first_loss"] = float(loss)
            step += 1
        if sched is not None and not p.per_batch:
            sched.step()
        model.eval()
        with torch.no_grad():
            otr, ova = model(xtr), model(xva)
            row = {key["val_loss"]: float(p.loss(ova, yva))}
            if not p.log_every:
                row[key["loss"]] = sum(pending) / max(1, len(pending))
                if p.log_lr:
                    row["lr"] = opt.param_groups[0]["lr"]
                pending = []
            if not regression:
                row[key["train_acc"]] = score(p.metric(otr, ytr))
                row[key["val_acc"]] = score(p.metric(ova, yva))
        if p.output_stats:
            babysit.log_output_stats(ova, yva, step=step - 1, split="val")
        log.log(row, step - 1)
        if p.tb_histograms:
            log.histograms(model, step - 1)
        summary.update(row)
        if TRACE:
            cells = "  ".join("%s=%.4g" % kv for kv in row.items())
            print("  ep %2d  %s  max|grad|=%.3g  lr=%.3g" % (ep, cells, gmax, opt.param_groups[0]["lr"]), flush=True)
    summary["last_loss"] = float(loss)
    log.finish()
    return summary


# ---- helpers for the faults ---------------------------------------------------------------------

def _teacher_logits(d: Data, seed: int) -> tuple:
    """A wide MLP trained for a few epochs on the same digits: its logits are the distillation targets."""
    torch.manual_seed(100 + seed)
    t = seq_mlp(64, 256, 10)
    opt = torch.optim.Adam(t.parameters(), lr=2e-3)
    x, y = torch.tensor(d.xtr), torch.tensor(d.ytr)
    for _ in range(15):
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            F.cross_entropy(t(x[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        return t(x).numpy(), t(torch.tensor(d.xva)).numpy()


def distill_data(seed):
    d = digits_std(seed)
    ttr, tva = _teacher_logits(d, seed)
    torch.manual_seed(seed)
    return Data(d.xtr, np.concatenate([d.ytr[:, None], ttr], 1).astype(np.float32), d.xva,
                np.concatenate([d.yva[:, None], tva], 1).astype(np.float32),
                "sklearn digits standardised, with a 64-256-10 teacher's logits", 10)


def _init_all(model, fn):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                fn(m)
    return model


def _sgd(lr, **kw):
    return lambda ps: torch.optim.SGD(ps, lr=lr, **kw)


# ---- the cases ----------------------------------------------------------------------------------

def build(case: str, seed: int) -> Program:
    torch.manual_seed(seed)
    np.random.seed(seed)
    # healthy controls
    if case == "C7-H-SPIRAL-DENSE":  # warm restarts; wandb keys
        return Program(spirals(seed), DenseMLP(2, 3, 32, 3), "DenseNet-style MLP 2-(32x3 concatenated)-3", lr=5e-3, epochs=30,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=5e-3), batch_size=64,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=10),
                       schedule_name="CosineAnnealingWarmRestarts(T_0=10 epochs)", logger="wandb", log_lr=True,
                       keys={"loss": "training_loss", "train_acc": "training_accuracy", "val_loss": "validation_loss",
                             "val_acc": "validation_accuracy"})
    if case == "C7-H-UNET-SEG":
        d = seg_images(seed)
        return Program(d, TinyUNet(), "tiny U-Net (8-16 channels, one skip)", loss=F.binary_cross_entropy_with_logits,
                       loss_name="BCEWithLogitsLoss (per pixel)", metric=pixel_acc, lr=3e-3, epochs=10, batch_size=16,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3), train_x=d.xtr / 255.0, val_x=d.xva / 255.0,
                       logger="tb", watch_every=None, tb_histograms=True,
                       keys={"loss": "Loss/train", "train_acc": "PixelAcc/train", "val_loss": "Loss/val", "val_acc": "PixelAcc/val"})
    if case == "C7-H-DISTILL-ONECYCLE":
        return Program(distill_data(seed), seq_mlp(64, 48, 10), "student MLP 64-48-10 distilled (KL, T=3, alpha 0.7)",
                       loss=distill(), loss_name="0.7 KLDivLoss(T=3) + 0.3 CrossEntropyLoss", metric=distill_acc, lr=0.1,
                       optimizer=_sgd(0.1, momentum=0.9, nesterov=True), optimizer_name="SGD(nesterov)", epochs=12,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=nb * e,
                                                                                     cycle_momentum=True),
                       schedule_name="OneCycleLR(max_lr=0.1, cycle_momentum)", per_batch=True, watch_every=10)
    if case == "C7-H-FOCAL-IMB":
        return Program(imbalanced_sep(seed), seq_mlp(10, 32, 2), "MLP 10-32-2", loss=focal(2.0), loss_name="focal loss (gamma 2)",
                       lr=3e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3), epochs=15, logger="trackio", acc_style="err",
                       label_stats=True, watch_every=8,
                       keys={"loss": "loss", "train_acc": "train_err", "val_loss": "val_loss", "val_acc": "val_err"})
    if case == "C7-H-MIXER-SMOOTH":  # heavy label smoothing: the loss floors high by design
        return Program(digits_std(seed), Mixer(), "MLP-Mixer, 16 patches of 2x2, dim 32, depth 2",
                       loss=lambda o, y: F.cross_entropy(o, y, label_smoothing=0.4), loss_name="CrossEntropyLoss(label_smoothing=0.4)",
                       lr=3e-3, optimizer=lambda ps: torch.optim.AdamW(ps, lr=3e-3, weight_decay=0.05), optimizer_name="AdamW",
                       epochs=12, batch_size=64, watch_every=12, extra_config={"weight_decay": 0.05, "label_smoothing": 0.4},
                       keys={"loss": "train/loss", "train_acc": "train/top1", "val_loss": "eval/loss", "val_acc": "eval/top1"})
    if case == "C7-H-POISSON-ADAGRAD":
        return Program(poisson_data(seed), seq_mlp(6, 32, 1, nn.Tanh), "MLP 6-32-1 tanh, log-rate output",
                       loss=lambda o, y: F.poisson_nll_loss(o[:, 0], y, log_input=True), loss_name="PoissonNLLLoss(log_input=True)",
                       metric=None, lr=0.05, optimizer=lambda ps: torch.optim.Adagrad(ps, lr=0.05), optimizer_name="Adagrad",
                       epochs=20, batch_size=32, log_every=5, watch_every=10, extra_config={"task": "regression"})
    if case == "C7-H-NOISY-SMALL-DROPOUT":
        return Program(noisy_small(seed), seq_mlp(15, 64, 2, layers=2, dropout=0.5), "MLP 15-64-64-2, dropout 0.5",
                       lr=2e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=2e-3, weight_decay=1e-3), epochs=14, batch_size=16,
                       watch_every=6, input_stats=True, extra_config={"weight_decay": 1e-3, "dropout": 0.5},
                       keys={"loss": "train/loss", "train_acc": "train/acc", "val_loss": "test/loss", "val_acc": "test/acc"})
    if case == "C7-H-CHECKER-IMPROVING":  # still improving when it stops
        return Program(checkerboard(seed), seq_mlp(2, 64, 2, layers=2), "MLP 2-64-64-2", lr=0.05,
                       optimizer=_sgd(0.05, momentum=0.9), optimizer_name="SGD(momentum 0.9)", epochs=12, batch_size=32,
                       logger="tb", watch_every=None, log_every=5, keys={"loss": "loss", "train_acc": "accuracy",
                                                                         "val_loss": "val_loss", "val_acc": "val_accuracy"})
    if case == "C7-H-CATEMB-GLU-POLY":
        return Program(catemb(seed), CatEmbNet(32, glu=True), "categorical embeddings (3+2+4) + GLU MLP 13-32-32-2",
                       lr=0.1, optimizer=_sgd(0.1, momentum=0.9), optimizer_name="SGD(momentum 0.9)", epochs=15, batch_size=64,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=e, power=2.0),
                       schedule_name="PolynomialLR(power 2) per epoch", logger="wandb", log_lr=True, input_stats=True,
                       keys={"loss": "train/loss", "train_acc": "train/acc", "val_loss": "val/loss", "val_acc": "val/acc"})
    if case == "C7-H-QUANTILE-RPROP":
        return Program(quantile_data(seed), seq_mlp(4, 64, 1, nn.GELU, layers=2), "MLP 4-64-64-1 GELU",
                       loss=lambda o, y: pinball(0.9)(o[:, 0], y), loss_name="pinball loss (q=0.9)", metric=None, lr=0.01,
                       optimizer=lambda ps: torch.optim.Rprop(ps, lr=0.01), optimizer_name="Rprop", epochs=120,
                       batch_size=2000, log_every=0, watch_every=5, output_stats=True, extra_config={"task": "quantile regression"})
    # faulty programs
    if case == "C7-NL-PAIRS-RESHUFFLED":
        return Program(digit_pairs(seed, reshuffle=True), Siamese(), "siamese MLP 64-64-32, head on |a-b| and a*b", lr=1e-3,
                       epochs=8, batch_size=64, watch_every=10, input_stats=True)
    if case == "C7-NL-SEQ-TWO-DRAWS":
        return Program(seq_reverse(seed, second_draw=True), GLUMLP(48, 96, 48), "GLU MLP 48-96-96-48 (6 x 8 logits)",
                       loss=seq_ce, loss_name="CrossEntropyLoss per token", metric=seq_acc, lr=2e-3,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=2e-3), epochs=8, batch_size=64, logger="wandb",
                       keys={"loss": "training_loss", "train_acc": "train/token_acc", "val_loss": "eval/loss", "val_acc": "eval/token_acc"})
    if case == "C7-LOM-KLDIV-PROBS":
        return Program(distill_data(seed), seq_mlp(64, 48, 10), "student MLP 64-48-10 distilled with KLDivLoss",
                       loss=distill_probs, loss_name="KLDivLoss(softmax(student), softmax(teacher/3))", metric=distill_acc,
                       lr=2e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=2e-3), epochs=12, watch_every=10)
    if case == "C7-LOM-TANH-QUANTILE":
        return Program(quantile_data(seed), seq_mlp(4, 64, 1, nn.ReLU, layers=2).append(nn.Tanh()),
                       "MLP 4-64-64-1 with tanh on the output", loss=lambda o, y: pinball(0.5)(o[:, 0], y),
                       loss_name="pinball loss (q=0.5)", metric=None, lr=2e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=2e-3),
                       epochs=15, logger="trackio", watch_every=10, output_stats=True, extra_config={"task": "median regression"},
                       keys={"loss": "train_loss", "val_loss": "val_loss"})
    if case == "C7-UNS-CHECKER-SORTED":
        return Program(checkerboard(seed, sort=True), seq_mlp(2, 64, 2, layers=2), "MLP 2-64-64-2", lr=3e-3,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3), epochs=12, shuffle=False, logger="tb",
                       watch_every=None, keys={"loss": "Loss/train", "train_acc": "Accuracy/train", "val_loss": "Loss/test",
                                               "val_acc": "Accuracy/test"})
    if case == "C7-UNS-SPIRAL-ARMS":
        return Program(spirals(seed, sort=True), DenseMLP(2, 3, 32, 3), "DenseNet-style MLP 2-(32x3 concatenated)-3", lr=0.1,
                       optimizer=lambda ps: torch.optim.Adagrad(ps, lr=0.1), optimizer_name="Adagrad", epochs=15,
                       shuffle=False, watch_every=5)
    if case == "C7-TVM-SEG-UNSCALED-VAL":
        d = seg_images(seed)
        return Program(d, TinyUNet(), "tiny U-Net (8-16 channels, one skip)", loss=F.binary_cross_entropy_with_logits,
                       loss_name="BCEWithLogitsLoss (per pixel)", metric=pixel_acc, lr=3e-3, epochs=10, batch_size=16,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3), train_x=d.xtr / 255.0, val_x=d.xva,
                       watch_every=10, keys={"loss": "train/loss", "train_acc": "train/pixel_acc", "val_loss": "val/loss",
                                             "val_acc": "val/pixel_acc"})
    if case == "C7-OR-L2-SUM-SPIRAL":
        def l2(model):
            return 0.02 * sum((w ** 2).sum() for w in model.parameters())
        return Program(spirals(seed), seq_mlp(2, 64, 3, layers=2), "MLP 2-64-64-3, L2 penalty 0.02 * sum(w^2) in the loss",
                       lr=3e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3), epochs=25, batch_size=32, penalty=l2,
                       logger="wandb", extra_config={"l2_penalty": 0.02})
    if case == "C7-MC-CATEMB-92":
        return Program(catemb(seed, weights=(0.92, 0.08), signal=0.25), CatEmbNet(32), "categorical embeddings + MLP 13-32-32-2",
                       lr=0.01, optimizer=_sgd(0.01), optimizer_name="SGD", epochs=15, batch_size=64, label_stats=True,
                       watch_every=10)
    if case == "C7-UF-RBF4-CHECKER":
        return Program(checkerboard(seed), RBFNet(2, 4, 2), "RBF network, 4 Gaussian centres, linear head", lr=1e-2,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=1e-2), epochs=20, logger="trackio", acc_style="percent",
                       watch_every=10, keys={"loss": "train_loss", "train_acc": "train_acc", "val_loss": "val_loss", "val_acc": "val_acc"})
    if case == "C7-UF-MIXER-NARROW":
        return Program(digits_std(seed), Mixer(dim=4, hidden=4, depth=1), "MLP-Mixer, 16 patches of 2x2, dim 4, hidden 4",
                       lr=3e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3), epochs=12, batch_size=64, logger="wandb",
                       keys={"loss": "train/loss", "train_acc": "train/top1", "val_loss": "val/loss", "val_acc": "val/top1"})
    if case == "C7-LRL-MULTIPLICATIVE-BATCH":
        return Program(seq_reverse(seed), GLUMLP(48, 96, 48), "GLU MLP 48-96-96-48 (6 x 8 logits)", loss=seq_ce,
                       loss_name="CrossEntropyLoss per token", metric=seq_acc, lr=0.05, optimizer=_sgd(0.05, momentum=0.9),
                       optimizer_name="SGD(momentum 0.9)", epochs=10, batch_size=64,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.MultiplicativeLR(o, lambda _: 0.9),
                       schedule_name="MultiplicativeLR(x0.9 per epoch)", per_batch=True, watch_every=10)
    if case == "C7-LRL-POLY-BATCH":
        return Program(spirals(seed), seq_mlp(2, 64, 3, layers=2), "MLP 2-64-64-3", lr=0.1, optimizer=_sgd(0.1, momentum=0.9),
                       optimizer_name="SGD(momentum 0.9)", epochs=20, batch_size=32,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=e, power=1.0),
                       schedule_name="PolynomialLR(total_iters=epochs)", per_batch=True, logger="wandb", log_lr=True)
    if case == "C7-LRH-ADAGRAD-2":
        return Program(catemb(seed), CatEmbNet(32), "categorical embeddings + MLP 13-32-32-2", lr=2.0,
                       optimizer=lambda ps: torch.optim.Adagrad(ps, lr=2.0), optimizer_name="Adagrad", epochs=12, batch_size=64,
                       watch_every=10)
    if case == "C7-LRH-LAMBDA-JUMP":  # meant 0.1x after epoch 5, typed the inverse
        return Program(digits_std(seed), seq_mlp(64, 64, 10, layers=2), "MLP 64-64-64-10", lr=1e-3,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=1e-3), epochs=12, batch_size=32,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.LambdaLR(o, lambda ep: 1.0 if ep < 5 else 300.0),
                       schedule_name="LambdaLR(1 then 300 from epoch 5)", logger="trackio", log_lr=True, watch_every=10)
    if case == "C7-BS1-QUANTILE":
        d = quantile_data(seed)
        d = Data(d.xtr[:300], d.ytr[:300], d.xva, d.yva, d.name + " (300 training rows)", None)
        return Program(d, seq_mlp(4, 32, 1), "MLP 4-32-1", loss=lambda o, y: pinball(0.5)(o[:, 0], y),
                       loss_name="pinball loss (q=0.5)", metric=None, lr=3e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3),
                       epochs=4, batch_size=1, logger="wandb", extra_config={"task": "median regression"},
                       keys={"loss": "training_loss", "val_loss": "validation_loss"})
    if case == "C7-DIV-ONECYCLE-MAXLR":
        return Program(poisson_data(seed), seq_mlp(6, 32, 1, nn.Tanh), "MLP 6-32-1 tanh, log-rate output",
                       loss=lambda o, y: F.poisson_nll_loss(o[:, 0], y, log_input=True), loss_name="PoissonNLLLoss(log_input=True)",
                       metric=None, lr=3.0, optimizer=_sgd(3.0, momentum=0.9), optimizer_name="SGD(momentum 0.9)", epochs=10,
                       batch_size=32,
                       schedule=lambda o, nb, e: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=3.0, total_steps=nb * e, cycle_momentum=True),
                       schedule_name="OneCycleLR(max_lr=3, cycle_momentum)", per_batch=True, watch_every=10,
                       extra_config={"task": "regression"})
    if case == "C7-EG-DEEP-GAIN":
        m = _init_all(seq_mlp(64, 64, 10, layers=8), lambda lin: (lin.weight.normal_(0, 2.4 / math.sqrt(lin.in_features)), lin.bias.zero_()))
        return Program(digits_std(seed), m, "MLP 64-64x8-10, init N(0, 2.4/sqrt(fan_in))", lr=1e-3, optimizer=_sgd(1e-3, momentum=0.9),
                       optimizer_name="SGD(momentum 0.9)", epochs=8, batch_size=32, watch_every=5)
    if case == "C7-VG-TINY-INIT-RELU":
        m = _init_all(seq_mlp(2, 48, 3, layers=10), lambda lin: (lin.weight.normal_(0, 0.02), lin.bias.zero_()))
        return Program(spirals(seed), m, "MLP 2-48x10-3, init N(0, 0.02)", lr=0.05, optimizer=_sgd(0.05, momentum=0.9),
                       optimizer_name="SGD(momentum 0.9)", epochs=15, logger="wandb")
    if case == "C7-DR-NEGATIVE-FIRST-LAYER":
        xtr, xva, ytr, yva = _digits01(seed)
        m = seq_mlp(64, 64, 10, layers=2)
        with torch.no_grad():
            m[0].weight.copy_(-m[0].weight.abs())  # a sign bug in a hand-written init
            m[0].bias.fill_(-0.1)
        return Program(Data(xtr, ytr, xva, yva, "sklearn digits, pixels / 16", 10), m, "MLP 64-64-64-10, first layer init -|w|",
                       lr=1e-3, epochs=10, watch_every=10)
    if case == "C7-ST-SIGMOID-BIAS":
        m = _init_all(seq_mlp(10, 64, 2, nn.Sigmoid, layers=2), lambda lin: lin.bias.fill_(6.0))
        return Program(imbalanced_sep(seed, (0.5, 0.5)), m, "MLP 10-64-64-2 sigmoid, biases initialised to 6", lr=0.05,
                       optimizer=_sgd(0.05), optimizer_name="SGD", epochs=15, watch_every=10)
    if case == "C7-BIL-PRIOR-BIAS":
        m = seq_mlp(64, 64, 10)
        with torch.no_grad():
            m[-1].bias.copy_(torch.linspace(0, 15, 10))
        return Program(digits_std(seed), m, "MLP 64-64-10, output bias initialised 0..15", lr=2e-3,
                       optimizer=lambda ps: torch.optim.Adam(ps, lr=2e-3), epochs=10, logger="trackio", watch_every=10,
                       keys={"loss": "train_loss", "train_acc": "train_acc", "val_loss": "val_loss", "val_acc": "val_acc"})
    if case == "C7-INN-RAW-MONEY":
        return Program(catemb(seed, raw=True), CatEmbNet(32), "categorical embeddings + MLP 13-32-32-2 (numeric columns raw)",
                       lr=1e-3, epochs=12, batch_size=64, logger="wandb", input_stats=True)
    if case == "C7-OF-SPIRAL-TINYSET":
        d = spirals(seed, noise=0.5)
        d = Data(d.xtr[:90], d.ytr[:90], d.xva, d.yva, d.name + " (90 training points)", 3)
        return Program(d, seq_mlp(2, 256, 3, layers=3), "MLP 2-256x3-3", lr=3e-3, optimizer=lambda ps: torch.optim.Adam(ps, lr=3e-3),
                       epochs=150, batch_size=32, logger="tb", watch_every=None, log_every=3,
                       keys={"loss": "train/loss", "train_acc": "train/acc", "val_loss": "val/loss", "val_acc": "val/acc"})
    if case == "C7-SYM-CONST-INIT":
        m = _init_all(seq_mlp(2, 64, 3, nn.Tanh, layers=2), lambda lin: (lin.weight.fill_(0.05), lin.bias.zero_()))
        return Program(spirals(seed), m, "MLP 2-64-64-3 tanh, every weight 0.05", lr=0.05, optimizer=_sgd(0.05, momentum=0.9),
                       optimizer_name="SGD(momentum 0.9)", epochs=15, batch_size=32, watch_every=10)
    raise KeyError(case)


# ---- labels -------------------------------------------------------------------------------------

_HEALTHY = {
    "C7-H-SPIRAL-DENSE": "DenseNet-style MLP on 3-arm spirals, Adam with cosine warm restarts every 10 epochs, logged through babysit.wandb",
    "C7-H-UNET-SEG": "tiny U-Net segmenting blobs per pixel, Adam, logged through SummaryWriter with weight histograms",
    "C7-H-DISTILL-ONECYCLE": "student MLP distilled from a teacher (KL + CE), SGD Nesterov with OneCycle and cycled momentum",
    "C7-H-FOCAL-IMB": "87/13 separable classes trained with focal loss, logged via trackio as error rates",
    "C7-H-MIXER-SMOOTH": "MLP-Mixer on digits with label smoothing 0.4 (the loss floors near 1.3 by design), AdamW",
    "C7-H-POISSON-ADAGRAD": "Poisson regression of counts (log-rate output), Adagrad, loss as the mean of 5 steps",
    "C7-H-NOISY-SMALL-DROPOUT": "195 noisy samples (15 % flipped), dropout 0.5 + weight decay: val acc ~0.8 is the ceiling",
    "C7-H-CHECKER-IMPROVING": "MLP on a 4x4 checkerboard, SGD momentum: still improving when it stops after 12 epochs",
    "C7-H-CATEMB-GLU-POLY": "tabular data with categorical embeddings and GLU units, SGD momentum with polynomial decay",
    "C7-H-QUANTILE-RPROP": "0.9-quantile regression (pinball loss) with full-batch Rprop, logged once an epoch",
}
CASES: Dict[str, dict] = {c: dict(fault="healthy: %s (control)" % f, source="AT normal", must=[], allowed=[], control=True)
                          for c, f in _HEALTHY.items()}


def _bad(fault, must, allowed=(), source=""):
    """A faulty case: must_not is every other code of the alert list."""
    return dict(fault=fault, must=list(must), allowed=list(allowed), control=False, source=source,
                must_not=[c for c in ALL_CODES if c not in must and c not in allowed])


CASES.update({
    "C7-NL-PAIRS-RESHUFFLED": _bad("siamese digit pairs whose second list was shuffled again after labelling: labels carry no signal",
                                   ["no_learning"], ["overfitting", "loss_plateau", "underfitting"], "DFD data; UM wrong labels"),
    "C7-NL-SEQ-TWO-DRAWS": _bad("sequence reversal whose targets come from a second draw of the generator, not from the inputs",
                                ["no_learning"], ["overfitting", "loss_plateau", "underfitting"], "TDC corrupt labels"),
    "C7-LOM-KLDIV-PROBS": _bad("distillation: softmax probabilities (not log-probabilities) fed to KLDivLoss: the loss is negative",
                               ["loss_output_mismatch"], ["loss_plateau", "bad_initial_loss"], "TDC loss/activation mismatch"),
    "C7-LOM-TANH-QUANTILE": _bad("tanh on a regression output whose standardised targets reach +-3: the loss floors",
                                 ["loss_output_mismatch"], ["loss_plateau", "underfitting", "saturated_activations"],
                                 "DFD act; AT last-layer activation"),
    "C7-UNS-CHECKER-SORTED": _bad("checkerboard training set sorted by class, shuffle=False (logged via SummaryWriter)",
                                  ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "no_learning",
                                                        "majority_class", "lr_too_high", "overfitting"], "TDC unshuffled data"),
    "C7-UNS-SPIRAL-ARMS": _bad("spiral arms stored one after another, shuffle=False, Adagrad",
                               ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "no_learning",
                                                     "majority_class", "lr_too_high", "overfitting"], "TDC unshuffled data"),
    "C7-TVM-SEG-UNSCALED-VAL": _bad("segmentation: training images divided by 255, validation images left at 0..255",
                                    ["train_val_mismatch"], ["overfitting"], "TDC normalisation family (pipeline mismatch)"),
    "C7-OR-L2-SUM-SPIRAL": _bad("hand-written L2 penalty 0.02 * sum of squared weights added to the loss: it dominates",
                                ["over_regularization"], ["underfitting", "loss_plateau"], "TDC over_regularization"),
    "C7-MC-CATEMB-92": _bad("92/8 tabular target with weak features, plain SGD: the model answers the majority class",
                            ["majority_class"], ["loss_plateau", "underfitting", "no_learning", "lr_too_low"],
                            "TDC unbalanced_data"),
    "C7-UF-RBF4-CHECKER": _bad("RBF network with 4 centres on a 4x4 checkerboard (16 cells): too small, train and val track",
                               ["underfitting"], ["loss_plateau"], "DEF model capacity"),
    "C7-UF-MIXER-NARROW": _bad("MLP-Mixer 4 units wide on digits: too small, train and val track each other",
                               ["underfitting"], ["loss_plateau"], "DEF model capacity"),
    "C7-LRL-MULTIPLICATIVE-BATCH": _bad("MultiplicativeLR(x0.9) meant per epoch, stepped every batch: lr ~0 after 100 steps",
                                        ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause"),
    "C7-LRL-POLY-BATCH": _bad("PolynomialLR(total_iters=epochs) stepped every batch: lr exactly 0 after 20 steps",
                              ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause"),
    "C7-LRH-ADAGRAD-2": _bad("Adagrad at lr 2.0 on a tabular MLP: updates far too large for the whole run",
                             ["lr_too_high"], ["noisy_loss", "dead_relu", "loss_plateau", "underfitting", "divergence",
                                               "exploding_gradients", "no_learning", "majority_class"], "DFD lr"),
    "C7-LRH-LAMBDA-JUMP": _bad("LambdaLR factor typed 300 instead of 0.1 from epoch 5: lr jumps 1e-3 -> 0.3 and training collapses",
                               ["lr_too_high"], ["noisy_loss", "dead_relu", "loss_plateau", "underfitting", "divergence",
                                                 "exploding_gradients", "no_learning", "majority_class"], "DFD lr"),
    "C7-BS1-QUANTILE": _bad("batch size 1 (per-sample pinball losses), Adam, logged every step",
                            ["noisy_loss"], ["lr_too_high"], "DFD batch size"),
    "C7-DIV-ONECYCLE-MAXLR": _bad("Poisson regression (exp link), OneCycleLR with max_lr 3 on SGD momentum: the loss turns NaN in the first epoch",
                                  ["divergence"], ["lr_too_high", "exploding_gradients", "noisy_loss", "dead_relu",
                                                   "loss_plateau", "no_learning"], "AT EG/NaN"),
    "C7-EG-DEEP-GAIN": _bad("8 ReLU layers initialised with gain 2.4 (He is 1.41): gradients ~1e3 at first, still 10-60 later",
                            ["exploding_gradients"], ["lr_too_high", "noisy_loss", "loss_plateau", "bad_initial_loss", "overfitting"],
                            "AT EG"),
    "C7-VG-TINY-INIT-RELU": _bad("12-layer ReLU MLP initialised N(0, 0.02): signal and gradients vanish with depth",
                                 ["vanishing_gradients"], ["no_learning", "loss_plateau", "underfitting", "lr_too_low",
                                                           "dead_relu", "majority_class"], "AT VG"),
    "C7-DR-NEGATIVE-FIRST-LAYER": _bad("first-layer weights initialised -|w| on non-negative pixels: every first-layer ReLU is dead",
                                       ["dead_relu"], ["no_learning", "loss_plateau", "underfitting", "vanishing_gradients",
                                                       "lr_too_low"], "AT DR"),
    "C7-ST-SIGMOID-BIAS": _bad("sigmoid MLP whose biases start at 6: units saturated near 1",
                               ["saturated_activations"], ["vanishing_gradients", "loss_plateau", "underfitting", "no_learning",
                                                           "lr_too_low", "majority_class"], "AT saturated activations"),
    "C7-BIL-PRIOR-BIAS": _bad("output bias initialised 0..15 across the classes: initial loss far above ln 10",
                              ["bad_initial_loss"], [], "cs231n initial loss"),
    "C7-INN-RAW-MONEY": _bad("numeric columns fed raw (income ~4e4, capital up to 1e5) next to embeddings",
                             ["input_not_normalized"], ["underfitting", "loss_plateau", "noisy_loss", "lr_too_high",
                                                        "dead_relu", "exploding_gradients", "bad_initial_loss", "no_learning",
                                                        "majority_class"], "TDC normalisation"),
    "C7-OF-SPIRAL-TINYSET": _bad("256-wide 3-layer MLP on 90 noisy spiral points for 150 epochs: memorises, val loss climbs",
                                 ["overfitting"], [], "AT overfitting"),
    "C7-SYM-CONST-INIT": _bad("every weight initialised to 0.05: hidden units identical, symmetry never broken",
                              ["symmetric_init"], ["underfitting", "loss_plateau", "no_learning", "saturated_activations"],
                              "TDC constant init"),
})


def label(case: str, seed: int) -> dict:
    return label_of(CASES, case, seed)


if __name__ == "__main__":
    main(build, run)

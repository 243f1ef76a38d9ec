"""corpus8: a held-out set of faulty training programs and healthy controls (after corpus7).

Written by someone who had not read babysit's rules, to measure them on programs they were not
shaped on. Real PyTorch training on CPU, a few seconds each, on data that needs no download (sklearn's
bundled and generated sets, numpy generators): a VAE on digits, heteroscedastic regression with
GaussianNLLLoss, a transformer encoder over token sequences, character-level language models, bag-of-
words documents, multi-label BCE, mixup, an s-curve regression, swiss-roll classes, ordinal grades,
anomaly labels. Logged through babysit itself and its drop-ins for other trackers' users
(``babysit.wandb``, ``babysit.tensorboard``, ``babysit.trackio``) with the keys those users write.

One training loop (``run``) with hooks: the task (what the loss and the evaluation are), the optimizer
and scheduler factories and when the scheduler steps, a per-batch hook (where a data bug lives), the
logging surface and its habits (keys, how often, with or without a step).

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs8.py C8-H-VAE-DIGITS 0
Record:        PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py --programs programs8 --seeds 0,1
Trace:         PROGRAMS8_TRACE=1 BABYSIT_MODE=disabled ... prints each evaluation's numbers (no server).
Labels (``CASES``) were written from each program and its own printed numbers, not from what babysit raises.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets

import babysit
import babysit.trackio as trackio
import babysit.wandb as wandb
from babysit.tensorboard import SummaryWriter
from programs import ALL_CODES, Data, _split, _standardise, label_of, main, mlp
from programs4 import digits_flat, iris

torch.set_num_threads(1)
TRACE = os.environ.get("PROGRAMS8_TRACE") == "1"


# ---- data ---------------------------------------------------------------------------------------

def digits_pixels01(seed):
    """Digits as 64 pixels in [0, 1] (for a VAE: Bernoulli pixels), labels kept for nothing."""
    d = datasets.load_digits()
    xtr, xva, ytr, yva = _split((d.data / 16.0).astype(np.float32), d.target, seed)
    return Data(xtr, ytr, xva, yva, "sklearn digits, 64 pixels in [0, 1]", None)


def digits_signal(seed):
    """Each digit image read row after row as a 64-step 1-D signal (N, 1, 64), standardised."""
    d = digits_flat(seed)
    return Data(d.xtr[:, None, :], d.ytr, d.xva[:, None, :], d.yva, "sklearn digits as 64-step 1-D signals", 10)


def digits_thumbs(seed):
    """Digits average-pooled to 4x4 thumbnails (16 features), standardised."""
    d = datasets.load_digits()
    x = d.images.reshape(-1, 4, 2, 4, 2).mean((2, 4)).reshape(-1, 16).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, d.target, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn digits pooled to 4x4 thumbnails, standardised", 10)


def hetero(seed, n=1600):
    """y = sin(2 x0) + 0.5 x1 + noise whose std grows with |x0| (0.03 .. 0.39); two useless columns."""
    r = np.random.RandomState(seed)
    x = r.uniform(-3, 3, (n, 4)).astype(np.float32)
    y = (np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] + (0.03 + 0.12 * np.abs(x[:, 0])) * r.randn(n)).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "heteroscedastic sin regression (noise std 0.03..0.39)", None)


def skewed_prices(seed, n=1600):
    """A price-like target: exp of a linear score of 8 features, so a long right tail; x and y standardised."""
    r = np.random.RandomState(seed)
    x = r.randn(n, 8).astype(np.float32)
    y = np.exp(0.6 * (x[:, 0] + 0.7 * x[:, 1] - 0.5 * x[:, 2] + 0.3 * x[:, 3] * x[:, 4]) + 0.1 * r.randn(n)).astype(np.float32)
    xtr, xva, ytr, yva = _split(x, y, seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "price-like target exp(linear score), x and y standardised", None)


def scurve(seed, n=1500):
    """sklearn make_s_curve: the 3-D point -> its position t along the curve (standardised)."""
    x, t = datasets.make_s_curve(n_samples=n, noise=0.1, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), t.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "sklearn make_s_curve, x and t standardised", None)


def swissroll_bin(seed, n=1400):
    """sklearn make_swiss_roll; the class is whether the point lies on the outer half of the roll."""
    x, t = datasets.make_swiss_roll(n_samples=n, noise=0.3, random_state=seed)
    y = (t > np.median(t)).astype(np.int64)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_swiss_roll, outer half vs inner half", 2)


def circles8(seed, n=1200):
    x, y = datasets.make_circles(n_samples=n, noise=0.08, factor=0.5, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_circles(noise=0.08, factor=0.5), standardised", 2)


def friedman_n(seed, which, raw_x=False, n=1200):
    gen = {2: datasets.make_friedman2, 3: datasets.make_friedman3}[which]
    x, y = gen(n_samples=n, noise=0.0, random_state=seed)
    if which == 3:  # friedman3's own noise argument is on the atan's scale; add it to the target instead
        y = y + 0.05 * np.random.RandomState(seed).randn(n)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y.astype(np.float32), seed, stratify=False)
    if not raw_x:
        xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    what = "raw x (0..100, 40pi..560pi, 0..1, 1..11)" if raw_x else "x standardised"
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "sklearn make_friedman%d, %s, y standardised" % (which, what), None)


def multilabel(seed, n=1500, labels=8):
    x, y = datasets.make_multilabel_classification(n_samples=n, n_features=30, n_classes=labels, n_labels=2,
                                                   allow_unlabeled=True, random_state=seed)
    r = np.random.RandomState(seed)
    o = r.permutation(n)
    x, y = np.log1p(x[o].astype(np.float32)), y[o].astype(np.float32)
    k = int(0.75 * n)
    xtr, xva = _standardise(x[:k], x[k:])
    return Data(xtr, y[:k], xva, y[k:], "sklearn make_multilabel_classification (30 counts, %d labels), log1p" % labels, None)


def graded(seed, weights, sep, n=1600, name="ordinal grades"):
    """Ordered grades from a latent score (weak features), the class shares given by `weights`."""
    r = np.random.RandomState(seed)
    x = r.randn(n, 10).astype(np.float32)
    score = sep * (x[:, 0] + 0.5 * x[:, 1] - 0.5 * x[:, 2]) + r.randn(n)
    cuts = np.quantile(score, np.cumsum(weights)[:-1])
    y = np.searchsorted(cuts, score)
    xtr, xva, ytr, yva = _split(x, y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "%s, shares %s" % (name, list(weights)), len(weights))


def imbalanced_clear(seed, weights=(0.9, 0.1)):
    x, y = datasets.make_classification(n_samples=1600, n_features=14, n_informative=6, n_redundant=2, n_classes=2,
                                        weights=list(weights), class_sep=1.0, flip_y=0.01, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, shares %s" % list(weights), 2)


def tokens_pair(seed, n=2400, length=10, vocab=6):
    """Token sequences; the class is (token at position 2 + token at position 7) mod `vocab`."""
    r = np.random.RandomState(seed)
    x = r.randint(0, vocab, (n, length))
    y = (x[:, 2] + x[:, 7]) % vocab
    xtr, xva, ytr, yva = _split(x, y, seed)
    return Data(xtr, ytr, xva, yva, "token sequences (length %d, %d symbols), class = (x[2] + x[7]) mod %d" % (length, vocab, vocab), vocab)


def bow_docs(seed, n=1500, vocab=150, topics=3):
    """Documents of 20..120 words drawn from one of 3 topics' word distributions: (counts, topic)."""
    r = np.random.RandomState(seed)
    base = r.dirichlet(np.ones(vocab) * 0.3, size=topics)
    mix = 0.06 * base + 0.94 * r.dirichlet(np.ones(vocab), size=1)
    y = r.randint(0, topics, n)
    lens = r.randint(20, 120, n)
    counts = np.stack([r.multinomial(k, mix[c]) for k, c in zip(lens, y)]).astype(np.float32)
    xtr, xva, ytr, yva = _split(counts, y, seed)
    return Data(xtr, ytr, xva, yva, "synthetic documents (150-word vocabulary, 3 topics)", topics)


_WORDS = ["ka", "lomi", "te", "runa", "bo", "sile", "mad", "oru", "pen", "tavi", "ge", "dun", "ilo", "fa", "nemo"]


def char_text(seed, n_chars):
    """Text from a small bigram 'language' of 15 words: each word picks its successor from 3."""
    r = np.random.RandomState(seed)
    nxt = {w: list(r.choice(len(_WORDS), 3, replace=False)) for w in range(len(_WORDS))}
    out, w = [], 0
    while sum(len(s) + 1 for s in out) < n_chars:
        out.append(_WORDS[w])
        w = nxt[w][r.randint(3)]
        if r.rand() < 0.12:
            out[-1] += "."
    return " ".join(out)[:n_chars]


def char_lm(seed, train_chars=12000, val_chars=3000, length=32):
    """Character windows of the bigram language: inputs x[0..L-1], targets x[1..L]."""
    text = char_text(seed, train_chars + val_chars + 1)
    chars = sorted(set(char_text(0, 20000)) | set(text))
    ids = np.array([chars.index(c) for c in text])

    def windows(a):
        k = (len(a) - 1) // length
        return a[:k * length].reshape(k, length), a[1:k * length + 1].reshape(k, length)

    xtr, ytr = windows(ids[:train_chars + 1])
    xva, yva = windows(ids[train_chars:])
    return Data(xtr, ytr, xva, yva, "character windows (%d chars) of a 15-word bigram language" % length, len(chars))


# ---- models -------------------------------------------------------------------------------------

class VAE(nn.Module):
    def __init__(self, d=64, h=48, z=4):
        super().__init__()
        self.enc = nn.Linear(d, h)
        self.act = nn.ReLU()
        self.mu = nn.Linear(h, z)
        self.logvar = nn.Linear(h, z)
        self.dec1 = nn.Linear(z, h)
        self.act2 = nn.ReLU()
        self.dec2 = nn.Linear(h, d)

    def forward(self, x):
        h = self.act(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        zz = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.dec2(self.act2(self.dec1(zz))), mu, logvar


class MeanVar(nn.Module):
    """A regression net with two heads: the mean and the log-variance of the target."""

    def __init__(self, d, h=64):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.act1 = nn.Softplus()
        self.fc2 = nn.Linear(h, h)
        self.act2 = nn.Softplus()
        self.mean = nn.Linear(h, 1)
        self.logvar = nn.Linear(h, 1)

    def forward(self, x):
        h = self.act2(self.fc2(self.act1(self.fc1(x))))
        return self.mean(h), self.logvar(h)


class TokenTransformer(nn.Module):
    def __init__(self, vocab, length, classes, d=32, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, length, d) * 0.1)
        enc = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, layers)
        self.out = nn.Linear(d * length, classes)

    def forward(self, x):
        return self.out(self.encoder(self.emb(x) + self.pos).flatten(1))


class CharGRU(nn.Module):
    def __init__(self, vocab, hidden, emb=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.gru(self.emb(x))
        return self.out(h)


class ResBlockNet(nn.Module):
    """Residual MLP: input projection, `blocks` of norm -> Linear -> act, added back; linear head."""

    def __init__(self, d, classes, width=64, blocks=2, act=nn.ELU, norm="layer"):
        super().__init__()
        self.inp = nn.Linear(d, width)
        self.norms = nn.ModuleList([nn.LayerNorm(width) if norm == "layer" else nn.GroupNorm(4, width) for _ in range(blocks)])
        self.fcs = nn.ModuleList([nn.Linear(width, width) for _ in range(blocks)])
        self.acts = nn.ModuleList([act() for _ in range(blocks)])
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        h = self.inp(x)
        for n_, f, a in zip(self.norms, self.fcs, self.acts):
            h = h + a(f(n_(h)))
        return self.out(h)


class GNReLUNet(nn.Module):
    """Linear -> GroupNorm -> ReLU, twice, then a linear head."""

    def __init__(self, d, classes, width=64):
        super().__init__()
        self.fc1 = nn.Linear(d, width)
        self.gn1 = nn.GroupNorm(4, width)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(width, width)
        self.gn2 = nn.GroupNorm(4, width)
        self.relu2 = nn.ReLU()
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        return self.out(self.relu2(self.gn2(self.fc2(self.relu1(self.gn1(self.fc1(x)))))))


class Conv1dNet(nn.Module):
    def __init__(self, classes=10, width=16, depth=2, act=nn.PReLU):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(1 if i == 0 else width, width, 5, padding=2) for i in range(depth)])
        self.acts = nn.ModuleList([act() for _ in range(depth)])
        self.pool = nn.AdaptiveAvgPool1d(4)
        self.out = nn.Linear(4 * width, classes)

    def forward(self, x):
        for c, a in zip(self.convs, self.acts):
            x = a(c(x))
        return self.out(self.pool(x).flatten(1))


def seq_mlp(sizes: List[int], act: Callable[[], nn.Module], out_act: Optional[nn.Module] = None) -> nn.Module:
    return mlp(sizes, act, out_act)


def init_normal(model: nn.Module, std: float, kind=nn.Linear) -> nn.Module:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, kind):
                m.weight.normal_(0, std)
                m.bias.zero_()
    return model


# ---- tasks: loss and evaluation -----------------------------------------------------------------

def _vae_loss(out, x):
    logits, mu, logvar = out
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()) / len(x)
    return recon + kl, {"recon": recon, "kl": kl}


def _gnll(out, y):
    mean, logvar = out
    return nn.GaussianNLLLoss()(mean, y, logvar.exp()), {}


def _lm_loss(out, y):
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)), {}


def default_loss(task: str):
    if task == "clf":
        return lambda out, y: (F.cross_entropy(out, y), {})
    if task == "reg":
        return lambda out, y: (F.mse_loss(out, y), {})
    if task == "ml":
        return lambda out, y: (F.binary_cross_entropy_with_logits(out, y), {})
    return {"vae": _vae_loss, "gnll": _gnll, "lm": _lm_loss}[task]


def evaluate(task: str, model, loss_fn, x, y) -> Dict[str, float]:
    """Loss and the task's metrics on (x, y) in eval mode, as plain floats."""
    with torch.no_grad():
        out = model(x)
        loss, parts = loss_fn(out, y if task != "vae" else x)
        r = {"loss": float(loss)}
        r.update({k: float(v) for k, v in parts.items()})
        if task == "clf":
            r["acc"] = float((out.argmax(1) == y).float().mean())
        elif task == "bin1":
            r["acc"] = float(((out[:, 0] > 0.5).long() == y).float().mean())
        elif task == "reg":
            r["mae"] = float((out - y).abs().mean())
        elif task == "gnll":
            r["rmse"] = float(((out[0] - y) ** 2).mean().sqrt())
        elif task == "ml":
            pred = (out > 0).float()
            tp = float((pred * y).sum())
            r["f1_micro"] = 2 * tp / max(1.0, float(pred.sum() + y.sum()))
            r["hamming"] = float((pred != y).float().mean())
        elif task == "lm":
            r["bpc"] = r["loss"] / math.log(2)
            r["acc"] = float((out.argmax(-1) == y).float().mean())
    return r


# ---- logging surfaces ---------------------------------------------------------------------------

class Surface:
    """babysit itself, or one of its drop-ins, used the way that tracker's users write it."""

    def __init__(self, kind: str, project: str, name: str, config: dict, model, opt, watch_every: Optional[int],
                 pass_step: bool):
        self.kind, self.pass_step = kind, pass_step
        if kind == "babysit":
            babysit.init(project=project, name=name, config=config)
        elif kind == "wandb":
            wandb.init(project=project, name=name, config=config)
        elif kind == "tb":
            self.writer = SummaryWriter("runs/" + name, project=project, config=config)
        elif kind == "trackio":
            trackio.init(project=project, name=name, config=config)
        if watch_every:
            if kind == "wandb":
                wandb.watch(model, log="gradients", log_freq=watch_every * 40)
            else:
                babysit.watch(model, opt, every=watch_every, hist_every=0)

    def log(self, row: Dict[str, float], step: int, epoch: float) -> None:
        if self.kind == "babysit":
            if self.pass_step:
                babysit.log(row, step=step, epoch=epoch)
            else:
                babysit.log(row)
        elif self.kind == "wandb":
            if self.pass_step:
                wandb.log(row, step=step)
            else:
                wandb.log(row)
        elif self.kind == "tb":
            for k, v in row.items():
                self.writer.add_scalar(k, v, step if self.pass_step else None)
        else:
            if self.pass_step:
                trackio.log(row, step=step)
            else:
                trackio.log(row)

    def finish(self) -> None:
        if self.kind == "babysit":
            babysit.finish()
        elif self.kind == "wandb":
            wandb.finish()
        elif self.kind == "tb":
            self.writer.close()
        else:
            trackio.finish()


# ---- the training loop --------------------------------------------------------------------------

@dataclass
class Program:
    data: Data
    model: nn.Module
    arch: str
    task: str  # clf, bin1 (one output unit), reg, ml (multi-label), vae, gnll, lm
    opt: Callable  # params -> optimizer
    opt_name: str
    lr: float
    epochs: int = 15
    batch_size: int = 32
    sched: Optional[Callable] = None  # (optimizer, batches per epoch, epochs) -> scheduler
    sched_per: str = "epoch"  # epoch, batch (step() after every optimizer step), plateau (step(val loss) per epoch)
    sched_name: str = ""
    shuffle: bool = True
    clip: Optional[float] = None
    loss_fn: Optional[Callable] = None  # (out, y) -> (loss, parts); default: the task's
    loss_name: str = ""
    batch_hook: Optional[Callable] = None  # (epoch, batch, x, y, state) -> (x, y): where a data bug lives
    val_x: Optional[np.ndarray] = None  # validation inputs as the (buggy) pipeline fed them
    surface: str = "babysit"
    keys: Dict[str, str] = field(default_factory=dict)  # role -> key the user logs it under
    log_every: int = 1  # the training loss every N steps (as their mean); 0: once an epoch
    pass_step: bool = True
    watch_every: Optional[int] = 10
    input_stats: bool = False
    label_stats: bool = False
    output_stats: bool = False
    log_lr: bool = False  # the lr logged by hand under keys["lr"]
    log_epoch: bool = False  # the epoch logged as a metric (HF Trainer's habit)
    patience: Optional[int] = None  # early stopping on the validation loss
    config: Dict[str, object] = field(default_factory=dict)


KEYS = {"train_loss": "train/loss", "val_loss": "val/loss", "train_acc": "train/acc", "val_acc": "val/acc",
        "lr": "lr", "epoch": "epoch"}


def _tensor(a, task, is_x):
    if is_x:
        return torch.tensor(a, dtype=torch.long if a.dtype.kind in "iu" else torch.float32)
    if task in ("clf", "lm"):
        return torch.tensor(a, dtype=torch.long)
    if task == "bin1":
        return torch.tensor(a, dtype=torch.long)
    t = torch.tensor(a, dtype=torch.float32)
    return t[:, None] if t.dim() == 1 and task in ("reg", "gnll") else t


def run(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    xtr, ytr = _tensor(d.xtr, p.task, True), _tensor(d.ytr, p.task, False)
    xva = _tensor(p.val_x if p.val_x is not None else d.xva, p.task, True)
    yva = _tensor(d.yva, p.task, False)
    model = p.model
    opt = p.opt(model.parameters())
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    sched = p.sched(opt, nb, p.epochs) if p.sched else None
    loss_fn = p.loss_fn or default_loss(p.task)
    config: Dict[str, object] = {
        "model": p.arch, "dataset": d.name, "optimizer": p.opt_name, "lr": p.lr, "batch_size": p.batch_size,
        "epochs": p.epochs, "loss": p.loss_name or {"clf": "CrossEntropyLoss", "reg": "MSELoss", "ml": "BCEWithLogitsLoss",
                                                    "gnll": "GaussianNLLLoss", "lm": "CrossEntropyLoss",
                                                    "vae": "BCE(sum) + KL", "bin1": "BCELoss"}[p.task],
        "train_size": n, "val_size": len(xva), "seed": seed,
    }
    if p.sched_name:
        config["scheduler"] = p.sched_name
    if p.clip:
        config["max_grad_norm"] = p.clip
    if p.task in ("clf", "lm"):
        config["num_classes"] = d.num_classes
    if not p.shuffle:
        config["shuffle"] = False
    config.update(p.config)
    key = dict(KEYS, **p.keys)
    log = Surface(p.surface, "corpus8", "%s-s%d" % (case.lower(), seed), config, model, opt, p.watch_every, p.pass_step)
    if p.input_stats:
        babysit.log_input_stats(xtr.flatten(1))
        if p.val_x is not None:
            babysit.log_input_stats(xva.flatten(1), split="val")
    if p.label_stats:
        babysit.log_label_stats(ytr, num_classes=d.num_classes)
    g = torch.Generator().manual_seed(seed)
    state: Dict[str, object] = {"rng": np.random.RandomState(100 + seed)}
    step, best, bad = 0, float("inf"), 0
    summary: Dict[str, float] = {}
    pending: List[float] = []
    for ep in range(p.epochs):
        model.train()
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        gmax = 0.0
        for b in range(nb):
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            x, y = xtr[idx], ytr[idx]
            if p.batch_hook is not None:
                x, y = p.batch_hook(ep, b, x, y, state)
            loss, parts = loss_fn(model(x), y if p.task != "vae" else x)
            opt.zero_grad()
            loss.backward()
            if TRACE:  # the largest gradient norm of the epoch, before any clipping
                gmax = max(gmax, float(torch.norm(torch.stack([q.grad.norm() for q in model.parameters() if q.grad is not None]))))
            if p.clip:
                nn.utils.clip_grad_norm_(model.parameters(), p.clip)
            opt.step()
            if sched is not None and p.sched_per == "batch":
                sched.step()
            pending.append(float(loss))
            if step == 0:
                summary["first_loss"] = float(loss)
            if p.log_every and (step + 1) % p.log_every == 0:
                row = {key["train_loss"]: sum(pending) / len(pending)}
                for k, v in parts.items():
                    row[key.get(k, "train/" + k)] = float(v)
                if p.log_lr:
                    row[key["lr"]] = opt.param_groups[0]["lr"]
                if p.log_epoch:
                    row[key["epoch"]] = round(ep + (b + 1) / nb, 4)
                log.log(row, step, ep + (b + 1) / nb)
                pending = []
            step += 1
        model.eval()
        tr = evaluate(p.task, model, loss_fn, xtr, ytr)
        va = evaluate(p.task, model, loss_fn, xva, yva)
        if sched is not None and p.sched_per == "epoch":
            sched.step()
        elif sched is not None and p.sched_per == "plateau":
            sched.step(va["loss"])
        row = {key["val_loss"]: va["loss"]}
        if not p.log_every:
            row[key["train_loss"]] = sum(pending) / max(1, len(pending))
            pending = []
            if p.log_lr:
                row[key["lr"]] = opt.param_groups[0]["lr"]
            if p.log_epoch:
                row[key["epoch"]] = ep + 1
        if "acc" in va:
            row[key["val_acc"]] = va["acc"]
            if key["train_acc"]:
                row[key["train_acc"]] = tr["acc"]
        for m in ("mae", "rmse", "f1_micro", "hamming", "bpc", "recon", "kl"):
            if m in va and key.get("val_" + m, "") is not None:
                row[key.get("val_" + m, "val/" + m)] = va[m]
        log.log(row, step - 1, float(ep + 1))
        if p.output_stats:
            with torch.no_grad():
                babysit.log_output_stats(model(xva), yva, step=step - 1, split="val")
        if TRACE:
            print("ep %2d lr %.2g gmax %.3g  train %s  val %s" % (
                ep, opt.param_groups[0]["lr"], gmax, " ".join("%s=%.4g" % kv for kv in tr.items()),
                " ".join("%s=%.4g" % kv for kv in va.items())), flush=True)
        summary.update({"val_" + k: v for k, v in va.items()})
        summary.update({"train_" + k: v for k, v in tr.items()})
        if p.patience is not None:
            if va["loss"] < best - 1e-4:
                best, bad = va["loss"], 0
            else:
                bad += 1
                if bad >= p.patience:
                    summary["stopped_epoch"] = ep
                    break
    log.finish()
    return summary


# ---- hooks and helpers for the cases ------------------------------------------------------------

def adam(lr, **kw):
    return lambda ps: torch.optim.Adam(ps, lr=lr, **kw)


def sgd(lr, **kw):
    return lambda ps: torch.optim.SGD(ps, lr=lr, **kw)


def redraw_inputs(ep, b, x, y, state):
    """The bug: the loader regenerates the circles every batch and keeps only the new points, not their labels."""
    r = state["rng"]
    xn, _ = datasets.make_circles(n_samples=max(2, len(x)), noise=0.08, factor=0.5, random_state=r.randint(1 << 30))
    xn = torch.tensor(xn[:len(x)], dtype=torch.float32)
    return (xn - 0.0) / 0.56, y


def previous_batch_labels(ep, b, x, y, state):
    """The bug: the labels of the previous batch (a prefetch queue one step out of phase)."""
    prev = state.get("prev")
    state["prev"] = y
    if prev is None or len(prev) != len(y):
        return x, y[torch.randperm(len(y))]
    return x, prev


def mixup(ep, b, x, y, state, classes=10, alpha=0.4):
    """Mixup: each batch mixed with a shuffled copy of itself; the targets become soft."""
    lam = float(state["rng"].beta(alpha, alpha))
    perm = torch.randperm(len(x))
    oh = F.one_hot(y, classes).float()
    return lam * x + (1 - lam) * x[perm], lam * oh + (1 - lam) * oh[perm]


def soft_ce(out, y):
    if y.dtype == torch.long:
        return F.cross_entropy(out, y), {}
    return torch.sum(-y * F.log_softmax(out, 1), 1).mean(), {}


def bce_one_unit(out, y):
    return F.binary_cross_entropy(out[:, 0], y.float()), {}


def class_weighted(ytr, classes):
    w = torch.tensor(len(ytr) / (classes * np.bincount(ytr, minlength=classes)), dtype=torch.float32)
    return lambda out, y: (F.cross_entropy(out, y, weight=w), {})


def _seed(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def warmup_then_decay(opt, nb, epochs):
    w = 2 * nb
    return torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.05, end_factor=1.0, total_iters=w),
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.05, total_iters=nb * epochs - w)], milestones=[w])


def build(case: str, seed: int) -> Program:
    _seed(seed)
    # ---- healthy controls ----
    if case == "C8-H-VAE-DIGITS":  # the KL term rises from ~0 while the summed loss falls
        return Program(digits_pixels01(seed), VAE(), "VAE 64-48-(z=4)-48-64", "vae", adam(2e-3), "Adam", 2e-3, epochs=25,
                       batch_size=64, surface="wandb", pass_step=False,
                       keys={"train_loss": "loss", "val_loss": "val_loss", "recon": "recon_loss", "kl": "kl_loss",
                             "val_recon": "val_recon_loss", "val_kl": "val_kl_loss"})
    if case == "C8-H-GNLL-HETERO":  # the Gaussian NLL goes below zero: healthy
        return Program(hetero(seed), MeanVar(4), "MLP 4-64-64 softplus, mean and log-variance heads", "gnll",
                       adam(1e-2), "Adam", 1e-2, epochs=40, batch_size=64, surface="trackio",
                       keys={"train_loss": "nll", "val_loss": "val_nll", "val_rmse": "val_rmse"}, watch_every=8,
                       input_stats=True)
    if case == "C8-H-TRANSFORMER-WARMUP":
        return Program(tokens_pair(seed), TokenTransformer(6, 10, 6), "TransformerEncoder 2x(d=32, 4 heads), learned positions",
                       "clf", lambda ps: torch.optim.AdamW(ps, lr=3e-3, weight_decay=0.01, amsgrad=True), "AdamW(amsgrad)",
                       3e-3, epochs=20, batch_size=64, sched=warmup_then_decay, sched_per="batch",
                       sched_name="LinearLR warmup 2 epochs then LinearLR decay (SequentialLR)", log_every=5,
                       keys={"train_loss": "train_loss", "val_loss": "eval_loss", "val_acc": "eval_accuracy", "train_acc": "",
                             "lr": "learning_rate"}, log_lr=True, log_epoch=True, watch_every=10)
    if case == "C8-H-CLIP-CIRCLES":  # clipping at 0.25 is active on most steps, and training is fine
        return Program(circles8(seed), ResBlockNet(2, 2, width=48, act=nn.ELU), "residual MLP, LayerNorm, ELU",
                       "clf", sgd(0.1, momentum=0.9), "SGD(momentum=0.9)", 0.1, epochs=20, clip=0.25, surface="tb",
                       keys={"train_loss": "loss/train_step", "val_loss": "loss/val", "val_acc": "acc/val",
                             "train_acc": "acc/train"}, watch_every=6)
    if case == "C8-H-CLASSWEIGHT":
        d = imbalanced_clear(seed)
        return Program(d, mlp([14, 32, 2], nn.LeakyReLU), "MLP 14-32-2 LeakyReLU", "clf", adam(1e-3), "Adam", 1e-3,
                       epochs=10, loss_fn=class_weighted(d.ytr, 2), loss_name="CrossEntropyLoss(weight=inverse class frequency)",
                       log_every=0, keys={"train_loss": "loss", "val_loss": "val_loss", "train_acc": "accuracy",
                                          "val_acc": "val_accuracy"}, input_stats=True, label_stats=True)
    if case == "C8-H-PLATEAU-THEN-DROP":  # tiny init: a long flat start at ln 2, then the net finds the circles
        return Program(circles8(seed), init_normal(mlp([2, 32, 32, 32, 2], nn.Tanh), 0.1), "MLP 2-32-32-32-2 tanh, init N(0, 0.1)",
                       "clf", sgd(0.05, momentum=0.9), "SGD(momentum=0.9)", 0.05, epochs=36, surface="wandb",
                       keys={"train_loss": "train/loss", "val_loss": "valid/loss", "val_acc": "valid/acc"}, watch_every=10)
    if case == "C8-H-IRIS-EARLYSTOP":
        return Program(iris(seed), mlp([4, 32, 3], nn.GELU), "MLP 4-32-3 GELU", "clf", adam(1e-2), "Adam", 1e-2, epochs=80,
                       batch_size=16, patience=8, surface="trackio",
                       keys={"train_loss": "train_loss_step", "val_loss": "val_loss", "val_acc": "val_acc", "train_acc": ""},
                       config={"early_stopping": "val_loss, patience 8"}, watch_every=5)
    if case == "C8-H-MIXUP":
        return Program(digits_thumbs(seed), mlp([16, 128, 10], nn.ReLU), "MLP 16-128-10", "clf", adam(2e-3), "Adam", 2e-3, epochs=20,
                       batch_size=64, batch_hook=mixup, loss_fn=soft_ce, loss_name="soft-target cross-entropy (mixup 0.4)",
                       surface="wandb", keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/accuracy",
                                              "train_acc": ""}, config={"mixup_alpha": 0.4}, watch_every=10)
    if case == "C8-H-MULTILABEL":  # per-label BCE starts at ~0.69, far below ln 8
        return Program(multilabel(seed), mlp([30, 64, 8], nn.ReLU), "MLP 30-64-8", "ml", adam(1e-3), "Adam", 1e-3, epochs=25,
                       sched=lambda o, nb, e: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=3),
                       sched_per="plateau", sched_name="ReduceLROnPlateau(0.5, patience 3)",
                       keys={"train_loss": "train/bce", "val_loss": "dev/bce", "val_f1_micro": "dev/f1_micro",
                             "val_hamming": "dev/hamming_loss"}, config={"num_labels": 8}, input_stats=True)
    if case == "C8-H-CHAR-GRU":
        d = char_lm(seed)
        return Program(d, CharGRU(d.num_classes, 64), "char GRU (emb 16, hidden 64)", "lm", adam(5e-3), "Adam", 5e-3,
                       epochs=12, batch_size=32, sched=lambda o, nb, e: torch.optim.lr_scheduler.StepLR(o, 5, 0.5),
                       sched_name="StepLR(5, 0.5)", surface="tb", log_every=2,
                       keys={"train_loss": "nll/train", "val_loss": "nll/val", "val_bpc": "bpc/val", "val_acc": "char_acc/val",
                             "train_acc": ""}, watch_every=10)
    # ---- faults ----
    if case == "C8-NL-REDRAWN-CIRCLES":
        return Program(circles8(seed), mlp([2, 32, 32, 2], nn.ReLU), "MLP 2-32-32-2", "clf", adam(3e-3), "Adam", 3e-3,
                       epochs=15, batch_hook=redraw_inputs, keys={"train_loss": "train/loss", "val_loss": "valid_loss",
                                                                  "val_acc": "valid_acc", "train_acc": ""}, watch_every=10)
    if case == "C8-NL-PREVBATCH-TRANSFORMER":
        return Program(tokens_pair(seed), TokenTransformer(6, 10, 6), "TransformerEncoder 2x(d=32, 4 heads), learned positions",
                       "clf", adam(1e-3), "Adam", 1e-3, epochs=15, batch_size=64, batch_hook=previous_batch_labels,
                       surface="wandb", log_every=5, log_lr=True, log_epoch=True,
                       keys={"train_loss": "train_loss", "val_loss": "eval_loss", "val_acc": "eval_accuracy", "train_acc": "",
                             "lr": "learning_rate"}, watch_every=10)
    if case == "C8-LOM-HARDTANH-PRICES":  # standardised skewed targets reach +5; a hardtanh output stops at +1
        return Program(skewed_prices(seed), mlp([8, 64, 64, 1], nn.ReLU, nn.Hardtanh()), "MLP 8-64-64-1, Hardtanh output", "reg",
                       adam(3e-3), "Adam", 3e-3, epochs=20, batch_size=32,
                       keys={"train_loss": "loss", "val_loss": "val_loss", "val_mae": "val_mae"}, output_stats=True,
                       input_stats=True)
    if case == "C8-LOM-ONEUNIT-SOFTMAX":  # softmax over a single unit is always 1: BCELoss sees p = 1
        return Program(swissroll_bin(seed), mlp([3, 32, 32, 1], nn.ReLU, nn.Softmax(dim=1)), "MLP 3-32-32-1, softmax output",
                       "bin1", adam(1e-3), "Adam", 1e-3, epochs=12, loss_fn=bce_one_unit, surface="tb",
                       keys={"train_loss": "Train/Loss", "val_loss": "Val/Loss", "val_acc": "Val/Acc", "train_acc": ""},
                       watch_every=10)
    if case == "C8-UNS-SCURVE":
        d = scurve(seed)
        o = np.argsort(d.ytr)
        d = Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, None)
        return Program(d, mlp([3, 64, 64, 1], nn.Softplus), "MLP 3-64-64-1 softplus", "reg", sgd(0.02, momentum=0.9),
                       "SGD(momentum=0.9)", 0.02, epochs=15, shuffle=False, surface="wandb", pass_step=False,
                       keys={"train_loss": "loss", "val_loss": "val_loss", "val_mae": "val_mae"}, watch_every=10)
    if case == "C8-UNS-DIGITS-CONV1D":
        d = digits_signal(seed)
        o = np.argsort(d.ytr, kind="stable")
        d = Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, 10)
        return Program(d, Conv1dNet(), "Conv1d 2x16 PReLU, avgpool 4", "clf",
                       lambda ps: torch.optim.Adadelta(ps, lr=1.0), "Adadelta", 1.0, epochs=10, shuffle=False,
                       surface="trackio", keys={"train_loss": "train_loss", "val_loss": "val_loss", "val_acc": "val_acc",
                                                "train_acc": "train_acc"}, watch_every=5)
    if case == "C8-TVM-BOW-COUNTS":  # trained on word frequencies, validated on raw counts
        d = bow_docs(seed)
        tf_tr = d.xtr / d.xtr.sum(1, keepdims=True)
        mu, sd = tf_tr.mean(0), tf_tr.std(0) + 1e-6  # a StandardScaler fitted on the frequencies
        return Program(Data((tf_tr - mu) / sd, d.ytr, (d.xva - mu) / sd, d.yva, d.name + ", standardised", 3),
                       mlp([150, 64, 3], nn.ReLU),
                       "bag of words MLP 150-64-3", "clf", adam(1e-3), "Adam", 1e-3, epochs=12,
                       keys={"train_loss": "train/loss", "val_loss": "dev/loss", "val_acc": "dev/acc", "train_acc": "train/acc"},
                       input_stats=True, watch_every=10)
    if case == "C8-OR-ADAMW-THUMBS":
        return Program(digits_thumbs(seed), mlp([16, 64, 64, 10], nn.ReLU), "MLP 16-64-64-10", "clf",
                       lambda ps: torch.optim.AdamW(ps, lr=3e-3, weight_decay=8.0, amsgrad=True), "AdamW(amsgrad)", 3e-3,
                       epochs=20, config={"weight_decay": 8.0}, log_every=5,
                       keys={"train_loss": "metrics/loss", "val_loss": "metrics/val_loss", "val_acc": "metrics/accuracy",
                             "train_acc": "metrics/train_accuracy"}, watch_every=10)
    if case == "C8-OR-WD-TIMES-N":  # weight decay 3e-5 multiplied by the training-set size (a sum-vs-mean slip)
        d = digits_signal(seed)
        wd = 3e-5 * len(d.xtr)
        return Program(d, Conv1dNet(act=nn.ReLU), "Conv1d 2x16 ReLU, avgpool 4", "clf", sgd(0.05, momentum=0.9, weight_decay=wd),
                       "SGD(momentum=0.9)", 0.05, epochs=15, config={"weight_decay": wd, "weight_decay_per_sample": 3e-5},
                       surface="trackio", pass_step=False,
                       keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                       watch_every=10)
    if case == "C8-MC-ORDINAL":
        d = graded(seed, (0.05, 0.86, 0.05, 0.04), sep=0.25, name="4 ordered grades from a weak latent score")
        return Program(d, mlp([10, 32, 4], nn.ReLU), "MLP 10-32-4", "clf", sgd(0.05, momentum=0.9), "SGD(momentum=0.9)", 0.05,
                       epochs=15, surface="wandb",
                       keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/accuracy", "train_acc": "train/accuracy"},
                       label_stats=True, watch_every=10)
    if case == "C8-MC-ANOMALY":
        d = graded(seed, (0.95, 0.05), sep=0.2, name="anomaly labels (5 %) from a weak score")
        return Program(d, mlp([10, 16, 2], nn.ELU), "MLP 10-16-2 ELU", "clf",
                       lambda ps: torch.optim.RMSprop(ps, lr=1e-3), "RMSprop", 1e-3, epochs=15, log_every=0,
                       keys={"train_loss": "loss", "val_loss": "val_loss", "train_acc": "acc", "val_acc": "val_acc"},
                       input_stats=True, watch_every=10)
    if case == "C8-UF-TINY-GRU":
        d = char_lm(seed)
        return Program(d, CharGRU(d.num_classes, 3, emb=3), "char GRU (emb 3, hidden 3)", "lm", adam(5e-3), "Adam", 5e-3,
                       epochs=12, surface="trackio", log_every=2,
                       keys={"train_loss": "train/nll", "val_loss": "val/nll", "val_bpc": "val/bpc", "val_acc": "val/char_acc",
                             "train_acc": "train/char_acc"}, watch_every=10)
    if case == "C8-OF-CHAR-GRU":  # 480 characters of text, a 256-unit GRU, 80 epochs
        d = char_lm(seed, train_chars=480, val_chars=3000)
        return Program(d, CharGRU(d.num_classes, 256), "char GRU (emb 16, hidden 256)", "lm", adam(3e-3), "Adam", 3e-3,
                       epochs=80, batch_size=8, surface="trackio",
                       keys={"train_loss": "train/nll", "val_loss": "val/nll", "val_bpc": "val/bpc", "val_acc": "val/char_acc",
                             "train_acc": "train/char_acc"}, watch_every=10)
    if case == "C8-LRL-LINEARLR-PERBATCH":  # LinearLR(total_iters=epochs) meant per epoch, stepped per batch
        return Program(digits_signal(seed), Conv1dNet(act=nn.LeakyReLU), "Conv1d 2x16 LeakyReLU, avgpool 4", "clf",
                       adam(2e-3), "Adam", 2e-3, epochs=15, sched=lambda o, nb, e: torch.optim.lr_scheduler.LinearLR(
                           o, start_factor=1.0, end_factor=0.001, total_iters=e), sched_per="batch",
                       sched_name="LinearLR(1.0 -> 0.001, total_iters=epochs)", surface="wandb", log_lr=True,
                       keys={"train_loss": "train_loss", "val_loss": "val_loss", "val_acc": "val_accuracy",
                             "lr": "learning_rate", "train_acc": ""}, watch_every=None)
    if case == "C8-LRL-ADADELTA":  # Adadelta's lr is a multiplier (default 1.0); 1e-3 typed as for Adam
        return Program(swissroll_bin(seed), mlp([3, 64, 64, 2], nn.ReLU), "MLP 3-64-64-2", "clf",
                       lambda ps: torch.optim.Adadelta(ps, lr=1e-3), "Adadelta", 1e-3, epochs=15,
                       keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                       watch_every=10)
    if case == "C8-LRH-RMSPROP-MOMENTUM":
        d = graded(seed, (0.25, 0.25, 0.25, 0.25), sep=1.2, name="4 ordered grades, balanced")
        return Program(d, mlp([10, 64, 64, 4], nn.ReLU), "MLP 10-64-64-4", "clf",
                       lambda ps: torch.optim.RMSprop(ps, lr=0.05, momentum=0.9), "RMSprop(momentum=0.9)", 0.05, epochs=15,
                       keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                       watch_every=10)
    if case == "C8-LRH-MULTISTEP-JUMP":  # gamma=10 typed for 0.1: lr x10 at epoch 6
        return Program(digits_thumbs(seed), mlp([16, 64, 64, 10], nn.ReLU), "MLP 16-64-64-10", "clf",
                       sgd(0.05, momentum=0.9), "SGD(momentum=0.9)", 0.05, epochs=16,
                       sched=lambda o, nb, e: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[6, 12], gamma=10.0),
                       sched_name="MultiStepLR([6, 12], gamma=10)", surface="tb",
                       keys={"train_loss": "Loss/train_step", "val_loss": "Loss/valid", "val_acc": "Accuracy/valid",
                             "train_acc": ""}, watch_every=10)
    if case == "C8-BS1-FRIEDMAN3":
        return Program(friedman_n(seed, 3, n=600), mlp([4, 32, 32, 1], nn.GELU), "MLP 4-32-32-1 GELU", "reg",
                       sgd(0.01), "SGD", 0.01, epochs=5, batch_size=1, surface="trackio",
                       keys={"train_loss": "train/mse", "val_loss": "val/mse", "val_mae": "val/mae"}, watch_every=25)
    if case == "C8-DIV-SUM-REDUCTION":  # MSELoss(reduction="sum") over 128 rows with an lr chosen for the mean
        return Program(friedman_n(seed, 2), mlp([4, 64, 64, 1], nn.ReLU), "MLP 4-64-64-1", "reg",
                       sgd(0.01, momentum=0.9), "SGD(momentum=0.9)", 0.01, epochs=15, batch_size=128,
                       loss_fn=lambda out, y: (F.mse_loss(out, y, reduction="sum"), {}), loss_name="MSELoss(reduction='sum')",
                       keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_mae": "val/mae"}, watch_every=10)
    if case == "C8-EXP-DEEP-GAIN":
        model = mlp([14] + [64] * 10 + [2], nn.ReLU)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0, 1.8 * math.sqrt(2.0 / m.in_features))
                    m.bias.zero_()
        return Program(imbalanced_clear(seed, (0.5, 0.5)), model, "MLP 14-64x10-2, init N(0, (1.8 x He)^2)", "clf",
                       sgd(1e-4), "SGD", 1e-4, epochs=12, surface="tb",
                       keys={"train_loss": "loss/train", "val_loss": "loss/val", "val_acc": "accuracy/val", "train_acc": ""},
                       watch_every=5)
    if case == "C8-VG-DEEP-HARDTANH":
        return Program(circles8(seed), init_normal(mlp([2] + [32] * 10 + [2], nn.Hardtanh), 0.1),
                       "MLP 2-32x10-2 Hardtanh, init N(0, 0.1)", "clf", sgd(0.05, momentum=0.9), "SGD(momentum=0.9)", 0.05,
                       epochs=15, keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc",
                                        "train_acc": "train/acc"}, watch_every=10)
    if case == "C8-DR-GROUPNORM-BIAS":
        model = GNReLUNet(13, 3)
        with torch.no_grad():
            model.gn1.bias.fill_(-3.5)
            model.gn2.bias.fill_(-3.5)
        d = graded(seed, (1 / 3, 1 / 3, 1 / 3), sep=1.5, name="3 ordered grades, balanced")
        return Program(Data(np.concatenate([d.xtr, d.xtr[:, :3] ** 2], 1), d.ytr, np.concatenate([d.xva, d.xva[:, :3] ** 2], 1),
                            d.yva, d.name + ", 3 squared columns", 3),
                       model, "MLP Linear-GroupNorm(4)-ReLU x2, GroupNorm bias -3.5", "clf", sgd(0.02, momentum=0.9),
                       "SGD(momentum=0.9)", 0.02, epochs=15,
                       keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_acc": "val/acc", "train_acc": "train/acc"},
                       watch_every=10)
    if case == "C8-ST-TANH-ORTHO":
        model = mlp([4, 64, 64, 1], nn.Tanh)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    nn.init.orthogonal_(m.weight, gain=6.0)
        return Program(friedman_n(seed, 3), model, "MLP 4-64-64-1 tanh, orthogonal init gain 6", "reg", adam(1e-3), "Adam",
                       1e-3, epochs=15, keys={"train_loss": "train/loss", "val_loss": "val/loss", "val_mae": "val/mae"},
                       watch_every=10, input_stats=True)
    if case == "C8-BIL-MULTILABEL-BIAS":  # output biases initialised to +6: every label predicted present
        model = mlp([30, 64, 8], nn.ReLU)
        with torch.no_grad():
            model.out.bias.fill_(6.0)
        return Program(multilabel(seed), model, "MLP 30-64-8, output bias 6", "ml", sgd(0.1, momentum=0.9),
                       "SGD(momentum=0.9)", 0.1, epochs=15, config={"num_labels": 8},
                       keys={"train_loss": "train/bce", "val_loss": "val/bce", "val_f1_micro": "val/f1_micro",
                             "val_hamming": "val/hamming_loss"}, watch_every=10)
    if case == "C8-INN-FRIEDMAN2-RAW":
        return Program(friedman_n(seed, 2, raw_x=True), mlp([4, 64, 64, 1], nn.ReLU), "MLP 4-64-64-1", "reg", adam(1e-3),
                       "Adam", 1e-3, epochs=20, surface="tb", input_stats=True,
                       keys={"train_loss": "Loss/train", "val_loss": "Loss/val", "val_mae": "MAE/val"}, watch_every=10)
    raise KeyError(case)


# ---- labels -------------------------------------------------------------------------------------

def _control(fault, source="AT normal"):
    return dict(fault=fault, must=[], allowed=[], control=True, source=source)


def _fault(fault, must, allowed=(), source=""):
    """must_not is every other code: what a careful person would call a wrong diagnosis here."""
    must_not = [c for c in ALL_CODES if c not in must and c not in allowed]
    return dict(fault=fault, must=list(must), must_not=must_not, allowed=list(allowed), control=False, source=source)


CASES: Dict[str, dict] = OrderedDict([
    ("C8-H-VAE-DIGITS", _control("healthy VAE on digits: summed BCE + KL (KL rises while the total falls), babysit.wandb")),
    ("C8-H-GNLL-HETERO", _control("healthy heteroscedastic regression with GaussianNLLLoss (the loss goes negative), trackio")),
    ("C8-H-TRANSFORMER-WARMUP", _control("healthy transformer encoder on token pairs, AdamW amsgrad, linear warmup then decay per batch")),
    ("C8-H-CLIP-CIRCLES", _control("healthy residual LayerNorm/ELU MLP on circles, gradient clipping at 0.25 active all run, tensorboard")),
    ("C8-H-CLASSWEIGHT", _control("healthy MLP on 90/10 data with inverse-frequency class weights, Keras-style keys once an epoch")),
    ("C8-H-PLATEAU-THEN-DROP", _control("healthy deep tanh MLP with a small init: a flat start at ln 2, then the drop, babysit.wandb")),
    ("C8-H-IRIS-EARLYSTOP", _control("healthy small GELU MLP on iris (112 samples), early stopping on val_loss, trackio")),
    ("C8-H-MIXUP", _control("healthy MLP on 4x4 digit thumbnails trained with mixup soft targets (the train loss floors high), babysit.wandb")),
    ("C8-H-MULTILABEL", _control("healthy multi-label MLP (8 labels, BCE per label starts near 0.69), ReduceLROnPlateau")),
    ("C8-H-CHAR-GRU", _control("healthy character-level GRU language model (nll, bpc), StepLR, tensorboard")),
    ("C8-NL-REDRAWN-CIRCLES", _fault("the loader redraws the circle points every batch and keeps the old labels: inputs unrelated to labels",
                                     ["no_learning"], ["loss_plateau", "underfitting"], "DFD data; UM wrong labels")),
    ("C8-NL-PREVBATCH-TRANSFORMER", _fault("each batch is trained on the previous batch's labels (a prefetch out of phase), transformer",
                                           ["no_learning"], ["loss_plateau", "underfitting", "overfitting"],
                                           "TDC corrupt labels; DFD data")),
    ("C8-LOM-HARDTANH-PRICES", _fault("Hardtanh on the output of a regression whose standardised (skewed) targets reach +5",
                                      ["loss_output_mismatch"], ["underfitting", "loss_plateau", "saturated_activations"],
                                      "DFD act; AT last-layer activation")),
    ("C8-LOM-ONEUNIT-SOFTMAX", _fault("softmax over a single output unit before BCELoss: the output is always 1, loss fixed",
                                      ["loss_output_mismatch"], ["no_learning", "loss_plateau", "bad_initial_loss", "underfitting",
                                                                 "vanishing_gradients", "lr_too_low"],
                                      "TDC last-layer activation; UM softmax misuse")),
    ("C8-UNS-SCURVE", _fault("s-curve regression rows sorted by their target, shuffle off (SGD momentum)",
                             ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "lr_too_high", "no_learning", "bad_initial_loss"],
                             "TDC unshuffled data")),
    ("C8-UNS-DIGITS-CONV1D", _fault("digit signals stored class by class, shuffle off (Conv1d, Adadelta)",
                                    ["unshuffled_data"], ["noisy_loss", "loss_plateau", "underfitting", "lr_too_high",
                                                          "majority_class", "no_learning"], "TDC unshuffled data")),
    ("C8-TVM-BOW-COUNTS", _fault("trained on word frequencies, validated on raw word counts (a pipeline mismatch)",
                                 ["train_val_mismatch"], ["overfitting"], "TDC normalisation family (pipeline mismatch)")),
    ("C8-OR-ADAMW-THUMBS", _fault("AdamW with weight_decay 8.0 (decoupled): the weights are pulled to zero, accuracy capped",
                                  ["over_regularization"], ["underfitting", "loss_plateau"], "TDC over_regularization")),
    ("C8-OR-WD-TIMES-N", _fault("SGD weight decay 3e-5 x 1347 training samples = 0.04 on a Conv1d: weights held small, accuracy capped near 0.7",
                                ["over_regularization"], ["underfitting", "loss_plateau", "no_learning"], "TDC over_regularization")),
    ("C8-MC-ORDINAL", _fault("4 ordered grades, 86 % in one, weak features: the MLP answers the common grade",
                             ["majority_class"], ["underfitting", "loss_plateau", "no_learning", "overfitting"], "TDC unbalanced_data")),
    ("C8-MC-ANOMALY", _fault("anomaly labels at 5 %, weak features, plain CE: the model answers 'normal'",
                             ["majority_class"], ["underfitting", "loss_plateau", "no_learning"], "TDC unbalanced_data")),
    ("C8-UF-TINY-GRU", _fault("character GRU with 3 hidden units: train and val nll track each other far above what 64 units reach",
                              ["underfitting"], ["loss_plateau"], "DEF model capacity")),
    ("C8-OF-CHAR-GRU", _fault("256-unit character GRU on 480 characters for 80 epochs: the val nll turns up while train falls",
                              ["overfitting"], [], "AT overfitting; DFD data size")),
    ("C8-LRL-LINEARLR-PERBATCH", _fault("LinearLR(total_iters=epochs) stepped every batch: lr at 0.1 % after 15 steps",
                                        ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause")),
    ("C8-LRL-ADADELTA", _fault("Adadelta with lr 1e-3 (its lr is a multiplier, default 1.0): updates ~1000x too small",
                               ["lr_too_low"], ["loss_plateau", "underfitting", "no_learning"], "AT slow convergence; DFD lr")),
    ("C8-LRH-RMSPROP-MOMENTUM", _fault("RMSprop lr 0.05 with momentum 0.9: updates far too large all run",
                                       ["lr_too_high"], ["dead_relu", "noisy_loss", "loss_plateau", "underfitting", "divergence",
                                                         "exploding_gradients", "no_learning"], "AT oscillating loss; DFD lr")),
    ("C8-LRH-MULTISTEP-JUMP", _fault("MultiStepLR gamma=10 typed for 0.1: lr x10 at epoch 6, the run collapses",
                                     ["lr_too_high"], ["divergence", "dead_relu", "noisy_loss", "loss_plateau", "exploding_gradients",
                                                       "no_learning", "underfitting", "majority_class"],
                                     "DEF LR root cause; AT oscillating loss")),
    ("C8-BS1-FRIEDMAN3", _fault("batch size 1 on a regression (per-sample squared errors), SGD",
                                ["noisy_loss"], ["lr_too_high", "overfitting"], "AT OL; DFD batch size")),
    ("C8-DIV-SUM-REDUCTION", _fault("MSELoss(reduction='sum') over batches of 128 with SGD lr 0.01 (an lr for the mean): the loss explodes",
                                    ["divergence"], ["lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "bad_initial_loss"],
                                    "AT EG/NaN; DD numerical errors")),
    ("C8-EXP-DEEP-GAIN", _fault("11-layer ReLU MLP initialised 1.8x He: activations grow ~1.8x a layer, gradient norms in the hundreds, loss spikes",
                                ["exploding_gradients"], ["bad_initial_loss", "divergence", "lr_too_high", "noisy_loss",
                                                          "dead_relu", "loss_plateau", "no_learning", "underfitting", "overfitting"],
                                "AT EG; TDC exploding")),
    ("C8-VG-DEEP-HARDTANH", _fault("11-layer Hardtanh MLP initialised N(0, 0.1): the signal and gradients shrink layer by layer",
                                   ["vanishing_gradients"], ["loss_plateau", "underfitting", "no_learning", "lr_too_low"],
                                   "AT VG; TDC vanishing")),
    ("C8-DR-GROUPNORM-BIAS", _fault("GroupNorm biases initialised to -3.5 before ReLU: almost every unit dead",
                                    ["dead_relu"], ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients",
                                                    "lr_too_low"], "AT DR; TDC dead units")),
    ("C8-ST-TANH-ORTHO", _fault("tanh MLP with orthogonal init gain 6: the hidden units sit at +-1",
                                ["saturated_activations"], ["vanishing_gradients", "loss_plateau", "underfitting",
                                                            "bad_initial_loss", "overfitting"], "AT saturated activations")),
    ("C8-BIL-MULTILABEL-BIAS", _fault("multi-label output biases initialised to +6: initial BCE ~4.5 where ln 2 is expected",
                                      ["bad_initial_loss"], ["overfitting"], "TDC poor initialisation")),
    ("C8-INN-FRIEDMAN2-RAW", _fault("friedman2 features fed raw (0..100, 125..1760, 0..1, 1..11)",
                                    ["input_not_normalized"], ["underfitting", "loss_plateau", "bad_initial_loss", "noisy_loss",
                                                               "lr_too_high", "exploding_gradients"],
                                    "TDC normalisation")),
])


def label(case: str, seed: int) -> dict:
    return label_of(CASES, case, seed)


if __name__ == "__main__":
    main(build, run)

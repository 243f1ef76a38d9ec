"""Small real training programs, each healthy or with one known fault, logged with the babysit SDK.

Each case trains a real PyTorch model on a data set that ships with scikit-learn (no download) and
logs it exactly as a user following the README would: ``init`` with the run's hyperparameters,
``log_input_stats`` of the training inputs as fed to the net, ``watch(model, optimizer)``, the
training loss every step, train/val accuracy and val loss once an epoch, ``finish``.

Run one case:  PYTHONPATH=sdk/python /usr/bin/python3 tools/corpus/programs.py C2-NL-PERM 0
(BABYSIT_URL says where to send it). ``tools/corpus/record.py`` runs every case behind a recording
proxy and writes tests/fixtures/corpus2. The labels (what a careful person would say about each
program) are in ``CASES``; they were written from the fault, not from what babysit raises.
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
from sklearn.model_selection import train_test_split

import babysit

torch.set_num_threads(1)

# Every code babysit knows (issue #10 included); a control's must_not is all of them but `allowed`.
ALL_CODES = [
    "divergence", "lr_too_high", "lr_too_low", "overfitting", "underfitting", "saturated_activations",
    "dead_relu", "bad_initial_loss", "symmetric_init", "input_not_normalized", "gradcheck_failed",
    "loss_plateau", "vanishing_gradients", "exploding_gradients", "noisy_loss", "overfit_sanity_failed",
    "search_boundary", "no_learning", "loss_output_mismatch", "unshuffled_data", "train_val_mismatch",
    "over_regularization", "majority_class",
]


# ---- data -------------------------------------------------------------------------------------

@dataclass
class Data:
    xtr: np.ndarray
    ytr: np.ndarray
    xva: np.ndarray
    yva: np.ndarray
    name: str
    num_classes: Optional[int]  # None: regression


def _split(x, y, seed, stratify=True):
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y if stratify else None)


def _standardise(xtr, xva):
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-8
    return (xtr - mu) / sd, (xva - mu) / sd


def digits_images(seed):
    d = datasets.load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # N, 1, 8, 8
    xtr, xva, ytr, yva = _split(x, d.target, seed)
    mu, sd = xtr.mean(), xtr.std()
    return Data((xtr - mu) / sd, ytr, (xva - mu) / sd, yva, "sklearn digits as 1x8x8 images, standardised", 10)


def tabular(loader, seed, name):
    d = loader()
    xtr, xva, ytr, yva = _split(d.data.astype(np.float32), d.target, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, name, int(d.target.max()) + 1)


def wine(seed):
    return tabular(datasets.load_wine, seed, "sklearn wine, standardised")


def cancer(seed):
    return tabular(datasets.load_breast_cancer, seed, "sklearn breast cancer, standardised")


def moons(seed, noise=0.2, n=1000):
    x, y = datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_moons(noise=%g), standardised" % noise, 2)


def friedman(seed):
    x, y = datasets.make_friedman1(n_samples=1200, n_features=10, noise=0.5, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y.astype(np.float32), seed, stratify=False)
    xtr, xva = _standardise(xtr, xva)
    mu, sd = ytr.mean(), ytr.std()
    return Data(xtr, (ytr - mu) / sd, xva, (yva - mu) / sd, "sklearn make_friedman1 regression, x and y standardised", None)


def blobs(seed):
    x, y = datasets.make_blobs(n_samples=1200, n_features=8, centers=4, cluster_std=3.0, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_blobs(4 centres, 8 features), standardised", 4)


def imbalanced(seed, classes=3, weights=(0.9, 0.05, 0.05)):
    x, y = datasets.make_classification(n_samples=1200, n_features=10, n_informative=3, n_redundant=2,
                                        n_classes=classes, n_clusters_per_class=2, weights=list(weights),
                                        class_sep=0.4, flip_y=0.0, random_state=seed)
    xtr, xva, ytr, yva = _split(x.astype(np.float32), y, seed)
    xtr, xva = _standardise(xtr, xva)
    return Data(xtr, ytr, xva, yva, "sklearn make_classification, %d classes, weights %s" % (classes, list(weights)), classes)


# ---- models -----------------------------------------------------------------------------------

def mlp(sizes: List[int], act: Callable[[], nn.Module], out_act: Optional[nn.Module] = None) -> nn.Module:
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    for i in range(len(sizes) - 2):
        layers["fc%d" % (i + 1)] = nn.Linear(sizes[i], sizes[i + 1])
        layers["act%d" % (i + 1)] = act()
    layers["out"] = nn.Linear(sizes[-2], sizes[-1])
    if out_act is not None:
        layers["out_act"] = out_act
    return nn.Sequential(layers)


class SmallCNN(nn.Module):
    def __init__(self, classes=10, width=16, hidden=64, act=nn.ReLU):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.relu1 = act()
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.relu2 = act()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(2 * width * 16, hidden)
        self.relu3 = act()
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        x = self.pool(self.relu2(self.conv2(x)))
        return self.out(self.relu3(self.fc(x.flatten(1))))


# ---- the training loop every case shares -----------------------------------------------------

@dataclass
class Program:
    data: Data
    model: nn.Module
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    epochs: int = 12
    batch_size: int = 32
    shuffle: bool = True
    loss: str = "CrossEntropyLoss"
    activation: str = "relu"
    architecture: str = ""
    schedule: Optional[str] = None  # "exp_per_batch" / "step_per_batch": ExponentialLR / StepLR stepped every batch
    gamma: float = 0.95
    val_transform: Optional[Callable[[np.ndarray], np.ndarray]] = None
    train_labels: Optional[np.ndarray] = None
    val_labels: Optional[np.ndarray] = None
    extra_config: Dict[str, object] = field(default_factory=dict)


def run(case: str, seed: int, p: Program) -> Dict[str, float]:
    d = p.data
    xtr = torch.tensor(d.xtr, dtype=torch.float32)
    xva_np = p.val_transform(d.xva) if p.val_transform is not None else d.xva
    xva = torch.tensor(xva_np, dtype=torch.float32)
    regression = d.num_classes is None
    lab_dtype = torch.float32 if regression else torch.long
    ytr = torch.tensor(p.train_labels if p.train_labels is not None else d.ytr, dtype=lab_dtype)
    yva = torch.tensor(p.val_labels if p.val_labels is not None else d.yva, dtype=lab_dtype)
    if regression:
        ytr, yva = ytr[:, None], yva[:, None]
    model = p.model
    params = model.parameters()
    if p.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=p.lr, weight_decay=p.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
    sched = None
    if p.schedule == "exp_per_batch":
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=p.gamma)
    elif p.schedule == "step_per_batch":  # StepLR(step_size=1) meant for epochs, stepped in the batch loop
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=p.gamma)
    loss_fn = nn.MSELoss() if regression else nn.CrossEntropyLoss()

    config: Dict[str, object] = {
        "model": p.architecture, "dataset": d.name, "optimizer": "Adam" if p.optimizer == "adam" else "SGD",
        "lr": p.lr, "momentum": p.momentum, "weight_decay": p.weight_decay, "batch_size": p.batch_size,
        "epochs": p.epochs, "shuffle": p.shuffle, "loss": "MSELoss" if regression else p.loss,
        "activation": p.activation, "train_size": len(xtr), "val_size": len(xva), "seed": seed,
    }
    if p.schedule:
        config["schedule"] = ("ExponentialLR(gamma=%g)" if p.schedule == "exp_per_batch" else "StepLR(step_size=1, gamma=%g)") % p.gamma
    if not regression:
        config["num_classes"] = d.num_classes
    config.update(p.extra_config)

    babysit.init(project="corpus2", name="%s-s%d" % (case.lower(), seed), config=config)
    babysit.log_input_stats(xtr)
    babysit.watch(model, opt, every=5)
    g = torch.Generator().manual_seed(seed)
    n = len(xtr)
    nb = math.ceil(n / p.batch_size)
    step = 0
    summary: Dict[str, float] = {}
    for ep in range(p.epochs):
        model.train()
        order = torch.randperm(n, generator=g) if p.shuffle else torch.arange(n)
        for b in range(nb):
            idx = order[b * p.batch_size:(b + 1) * p.batch_size]
            out = model(xtr[idx])
            loss = loss_fn(out, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            babysit.log({"train/loss": loss.detach()}, step=step, epoch=ep + b / nb)
            if step == 0:
                summary["first_loss"] = float(loss)
            step += 1
        model.eval()
        with torch.no_grad():
            otr, ova = model(xtr), model(xva)
            vloss = float(loss_fn(ova, yva))
            row = {"val/loss": vloss}
            if not regression:
                row["train/acc"] = float((otr.argmax(1) == ytr).float().mean())
                row["val/acc"] = float((ova.argmax(1) == yva).float().mean())
        babysit.log(row, step=step - 1)
        summary.update(row)
    summary["last_loss"] = float(loss)
    babysit.finish()
    return summary


# ---- the cases --------------------------------------------------------------------------------

def _seed(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def _permuted(y, seed):
    return np.random.RandomState(1000 + seed).permutation(y)


def _sorted(d: Data) -> Data:
    o = np.argsort(d.ytr, kind="stable")
    return Data(d.xtr[o], d.ytr[o], d.xva, d.yva, d.name, d.num_classes)


def _init_normal(model: nn.Module, std: float):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, std)
                m.bias.zero_()
    return model


def _deep_tanh(sizes, std):
    return _init_normal(mlp(sizes, nn.Tanh), std)


def _dead_bias(model: nn.Module, bias: float):
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear) and name.startswith("fc"):
                m.bias.fill_(bias)
    return model


class DeepSigmoidCNN(nn.Module):
    """Six 3x3 conv layers with sigmoids, then a linear classifier: the gradient shrinks ~4x per layer."""

    def __init__(self, classes=10, width=8, depth=6):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1 if i == 0 else width, width, 3, padding=1) for i in range(depth)])
        self.acts = nn.ModuleList([nn.Sigmoid() for _ in range(depth)])
        self.out = nn.Linear(width * 64, classes)

    def forward(self, x):
        for conv, act in zip(self.convs, self.acts):
            x = act(conv(x))
        return self.out(x.flatten(1))


def friedman_raw_target(seed):
    d = friedman(seed)
    x, y = datasets.make_friedman1(n_samples=1200, n_features=10, noise=0.5, random_state=seed)
    _, _, ytr, yva = _split(x.astype(np.float32), (y * 100).astype(np.float32), seed, stratify=False)
    return Data(d.xtr, ytr, d.xva, yva, "sklearn make_friedman1 regression, x standardised, y in cents", None)


def build(case: str, seed: int) -> Program:
    _seed(seed)
    if case == "C2-H-CNN":
        return Program(digits_images(seed), SmallCNN(), lr=1e-3, epochs=10, architecture="CNN conv16-conv32-pool-fc64")
    if case == "C2-H-TANH-WINE":
        return Program(wine(seed), mlp([13, 32, 32, 3], nn.Tanh), optimizer="sgd", lr=0.02, momentum=0.9, epochs=30,
                       batch_size=16, activation="tanh", architecture="MLP 13-32-32-3")
    if case == "C2-H-CANCER":
        return Program(cancer(seed), mlp([30, 64, 2], nn.ReLU), lr=1e-3, epochs=25, architecture="MLP 30-64-2")
    if case == "C2-H-REG":
        return Program(friedman(seed), mlp([10, 64, 64, 1], nn.ReLU), lr=1e-3, epochs=25, architecture="MLP 10-64-64-1",
                       extra_config={"task": "regression"})
    if case == "C2-H-MOONS-SGD":
        return Program(moons(seed), mlp([2, 32, 32, 2], nn.ReLU), optimizer="sgd", lr=0.05, momentum=0.9, epochs=20,
                       architecture="MLP 2-32-32-2")
    if case == "C2-NL-PERM-CNN":
        d = digits_images(seed)
        return Program(d, SmallCNN(), lr=1e-3, epochs=10, architecture="CNN conv16-conv32-pool-fc64",
                       train_labels=_permuted(d.ytr, seed), val_labels=_permuted(d.yva, seed + 7))
    if case == "C2-NL-PERM-CANCER":
        d = cancer(seed)
        return Program(d, mlp([30, 16, 2], nn.ReLU), lr=1e-3, epochs=25, architecture="MLP 30-16-2",
                       train_labels=_permuted(d.ytr, seed), val_labels=_permuted(d.yva, seed + 7))
    if case == "C2-NL-ZERO-MOONS":
        d = moons(seed)
        d.xtr, d.xva = d.xtr * 0, d.xva * 0
        return Program(d, mlp([2, 32, 32, 2], nn.ReLU), lr=1e-3, epochs=20, architecture="MLP 2-32-32-2")
    if case == "C2-LOM-SOFTMAX-WINE":
        return Program(wine(seed), mlp([13, 32, 3], nn.ReLU, nn.Softmax(dim=1)), lr=1e-3, epochs=40, batch_size=16,
                       architecture="MLP 13-32-3")
    if case == "C2-LOM-SIGMOID-CANCER":
        return Program(cancer(seed), mlp([30, 32, 2], nn.ReLU, nn.Sigmoid()), lr=1e-3, epochs=25, architecture="MLP 30-32-2")
    if case == "C2-LOM-RELU-REG":
        return Program(friedman(seed), mlp([10, 64, 64, 1], nn.ReLU, nn.ReLU()), lr=1e-3, epochs=25,
                       architecture="MLP 10-64-64-1", extra_config={"task": "regression"})
    if case == "C2-UNS-CNN":
        return Program(_sorted(digits_images(seed)), SmallCNN(), optimizer="sgd", lr=0.02, momentum=0.9, epochs=10,
                       shuffle=False, architecture="CNN conv16-conv32-pool-fc64")
    if case == "C2-UNS-BLOBS":
        return Program(_sorted(blobs(seed)), mlp([8, 32, 32, 4], nn.ReLU), lr=1e-3, epochs=15, shuffle=False,
                       architecture="MLP 8-32-32-4")
    if case == "C2-TVM-CANCER":
        d = cancer(seed)
        raw = datasets.load_breast_cancer().data.astype(np.float32)
        _, raw_va, _, _ = _split(raw, datasets.load_breast_cancer().target, seed)
        d.xva = raw_va  # the scaler was fitted and applied to the training set only
        return Program(d, mlp([30, 64, 2], nn.ReLU), lr=1e-3, epochs=25, architecture="MLP 30-64-2")
    if case == "C2-TVM-CNN":
        d = digits_images(seed)
        dd = datasets.load_digits()
        _, raw_va, _, _ = _split(dd.images.astype(np.float32)[:, None], dd.target, seed)
        d.xva = raw_va  # validation pixels left at 0..16
        return Program(d, SmallCNN(), lr=1e-3, epochs=10, architecture="CNN conv16-conv32-pool-fc64")
    if case == "C2-OR-CNN":
        return Program(digits_images(seed), SmallCNN(), lr=1e-3, weight_decay=0.1, epochs=10,
                       architecture="CNN conv16-conv32-pool-fc64")
    if case == "C2-OR-MOONS":
        return Program(moons(seed), mlp([2, 64, 64, 2], nn.ReLU), optimizer="sgd", lr=0.05, momentum=0.9,
                       weight_decay=0.03, epochs=20, architecture="MLP 2-64-64-2")
    if case == "C2-MC-SYN3":
        return Program(imbalanced(seed), mlp([10, 32, 3], nn.ReLU), optimizer="sgd", lr=0.01, epochs=20,
                       architecture="MLP 10-32-3")
    if case == "C2-MC-BIN":
        return Program(imbalanced(seed, 2, (0.93, 0.07)), mlp([10, 16, 2], nn.Tanh), optimizer="sgd", lr=0.005,
                       epochs=20, activation="tanh", architecture="MLP 10-16-2")
    if case == "C2-UF-TINY-CNN":
        return Program(digits_images(seed), SmallCNN(width=1, hidden=4), lr=1e-3, epochs=10,
                       architecture="CNN conv1-conv2-pool-fc4")
    if case == "C2-UF-LINEAR-MOONS":
        return Program(moons(seed, noise=0.1), nn.Sequential(OrderedDict(out=nn.Linear(2, 2))), lr=1e-2, epochs=20,
                       activation="none", architecture="logistic regression 2-2")
    if case == "C2-LRL-SCHED-CNN":
        return Program(digits_images(seed), SmallCNN(), optimizer="sgd", lr=0.05, momentum=0.9, epochs=10,
                       schedule="exp_per_batch", gamma=0.95, architecture="CNN conv16-conv32-pool-fc64")
    if case == "C2-LRL-SGD-CANCER":
        return Program(cancer(seed), mlp([30, 64, 2], nn.ReLU), optimizer="sgd", lr=1e-5, epochs=25,
                       architecture="MLP 30-64-2")
    if case == "C2-LRH-ADAM-MOONS":
        return Program(moons(seed), mlp([2, 64, 64, 2], nn.ReLU), lr=1.0, epochs=20, architecture="MLP 2-64-64-2")
    if case == "C2-LRH-ADAM-CNN":
        return Program(digits_images(seed), SmallCNN(), lr=0.1, epochs=10, architecture="CNN conv16-conv32-pool-fc64")
    if case == "C2-BS1-WINE":
        return Program(wine(seed), mlp([13, 32, 3], nn.ReLU), optimizer="sgd", lr=0.01, epochs=8, batch_size=1,
                       architecture="MLP 13-32-3")
    if case == "C2-DIV-CANCER":
        return Program(cancer(seed), mlp([30, 64, 64, 2], nn.ReLU), optimizer="sgd", lr=3.0, momentum=0.9, epochs=15,
                       architecture="MLP 30-64-64-2")
    if case == "C2-VG-DEEP-TANH":
        return Program(cancer(seed), _deep_tanh([30] + [32] * 10 + [2], 0.05), optimizer="sgd", lr=0.05, epochs=25,
                       activation="tanh", architecture="MLP 30-32x10-2, init N(0, 0.05)")
    if case == "C2-DR-BIAS-WINE":
        return Program(wine(seed), _dead_bias(mlp([13, 64, 64, 3], nn.ReLU), -4.0), lr=1e-3, epochs=40, batch_size=16,
                       architecture="MLP 13-64-64-3, hidden biases initialised to -4")
    if case == "C2-ST-TANH-WINE":
        return Program(wine(seed), _init_normal(mlp([13, 128, 128, 3], nn.Tanh), 2.0), optimizer="sgd", lr=0.01,
                       epochs=40, batch_size=16, activation="tanh", architecture="MLP 13-128-128-3, init N(0, 2)")
    if case == "C2-H-CNN-SGD":
        return Program(digits_images(seed), SmallCNN(width=8), optimizer="sgd", lr=0.02, momentum=0.9, epochs=8,
                       architecture="CNN conv8-conv16-pool-fc64")
    if case == "C2-H-BLOBS-TANH":
        return Program(blobs(seed), mlp([8, 64, 4], nn.Tanh), lr=3e-3, epochs=12, activation="tanh", architecture="MLP 8-64-4")
    if case == "C2-BS1-MOONS":
        return Program(moons(seed, n=400), mlp([2, 32, 32, 2], nn.ReLU), lr=1e-3, epochs=4, batch_size=1,
                       architecture="MLP 2-32-32-2")
    if case == "C2-VG-SIGMOID-CNN":
        return Program(digits_images(seed), DeepSigmoidCNN(), optimizer="sgd", lr=0.05, epochs=6, activation="sigmoid",
                       architecture="CNN 6 x conv8 sigmoid, linear head")
    if case == "C2-LRL-STEPLR-MOONS":
        return Program(moons(seed), mlp([2, 32, 32, 2], nn.ReLU), optimizer="sgd", lr=0.1, momentum=0.9, epochs=20,
                       schedule="step_per_batch", gamma=0.7, architecture="MLP 2-32-32-2")
    if case == "C2-DIV-REG":
        return Program(friedman_raw_target(seed), mlp([10, 64, 1], nn.ReLU), optimizer="sgd", lr=0.01, momentum=0.9,
                       epochs=10, architecture="MLP 10-64-1", extra_config={"task": "regression"})
    raise KeyError(case)


# What a careful person would say about each program (tests/fixtures/README.md: the label format).
_CONTROL = dict(must=[], allowed=[], control=True)


def _faulty(must, must_not, allowed=(), source=""):
    return dict(must=list(must), must_not=list(must_not), allowed=list(allowed), control=False, source=source)


_NOT_LR = ["lr_too_high", "lr_too_low", "divergence", "exploding_gradients"]
CASES: Dict[str, dict] = {
    "C2-H-CNN": dict(fault="healthy small CNN on digits images, Adam 1e-3 (control)", source="AT normal", **_CONTROL),
    "C2-H-TANH-WINE": dict(fault="healthy tanh MLP on wine, SGD momentum (control)", source="AT normal", **_CONTROL),
    "C2-H-CANCER": dict(fault="healthy ReLU MLP on breast cancer, Adam (control)", source="AT normal", **_CONTROL),
    "C2-H-REG": dict(fault="healthy MLP regression on Friedman #1 (control)", source="AT normal", **_CONTROL),
    "C2-H-MOONS-SGD": dict(fault="healthy ReLU MLP on moons, SGD momentum (control)", source="AT normal", **_CONTROL),
    "C2-NL-PERM-CNN": dict(fault="labels permuted independently of the images (CNN on digits)", **_faulty(
        ["no_learning"], _NOT_LR + ["dead_relu", "vanishing_gradients", "bad_initial_loss", "symmetric_init",
                                    "saturated_activations", "input_not_normalized", "majority_class"],
        ["overfitting", "loss_plateau", "underfitting"], "DFD data; UM wrong labels; TDC corrupt labels")),
    "C2-NL-PERM-CANCER": dict(fault="labels permuted independently of the inputs (MLP on breast cancer)", **_faulty(
        ["no_learning"], _NOT_LR + ["dead_relu", "vanishing_gradients", "bad_initial_loss", "symmetric_init",
                                    "saturated_activations", "input_not_normalized"],
        ["overfitting", "loss_plateau", "underfitting", "majority_class"], "DFD data; UM wrong labels")),
    "C2-NL-ZERO-MOONS": dict(fault="inputs zeroed before the net (a masking bug), MLP on moons", **_faulty(
        ["no_learning"], ["lr_too_high", "lr_too_low", "divergence", "exploding_gradients", "bad_initial_loss",
                          "symmetric_init", "saturated_activations", "overfitting", "majority_class"],
        ["input_not_normalized", "loss_plateau", "underfitting", "dead_relu", "vanishing_gradients"],
        "TDC constant input; DD no-input")),
    "C2-LOM-SOFTMAX-WINE": dict(fault="softmax output layer before CrossEntropyLoss (wine MLP)", **_faulty(
        ["loss_output_mismatch"], _NOT_LR + ["bad_initial_loss", "underfitting", "overfitting", "dead_relu",
                                             "vanishing_gradients", "no_learning"],
        ["loss_plateau"], "TDC redundant_softmax; UM softmax-before-loss")),
    "C2-LOM-SIGMOID-CANCER": dict(fault="sigmoid on the logits before CrossEntropyLoss (breast cancer MLP)", **_faulty(
        ["loss_output_mismatch"], _NOT_LR + ["bad_initial_loss", "underfitting", "overfitting", "dead_relu",
                                             "vanishing_gradients", "no_learning"],
        ["loss_plateau", "saturated_activations"], "DFD act; TDC last-layer activation")),
    "C2-LOM-RELU-REG": dict(fault="ReLU on the output of a regression whose targets are standardised (half negative)", **_faulty(
        ["loss_output_mismatch"], _NOT_LR + ["bad_initial_loss", "overfitting", "vanishing_gradients", "no_learning",
                                             "symmetric_init"],
        ["loss_plateau", "underfitting", "dead_relu"], "DFD act; AT last-layer activation")),
    "C2-UNS-CNN": dict(fault="training set sorted by label, shuffle=False (CNN on digits, SGD)", **_faulty(
        ["unshuffled_data"], ["lr_too_low", "bad_initial_loss", "symmetric_init", "vanishing_gradients",
                              "dead_relu", "saturated_activations", "input_not_normalized"],
        ["noisy_loss", "loss_plateau", "underfitting", "overfitting", "lr_too_high", "divergence", "exploding_gradients",
         "no_learning", "majority_class"], "TDC unshuffled data; DFD data order")),
    "C2-UNS-BLOBS": dict(fault="training set sorted by label, shuffle=False (MLP on blobs, Adam)", **_faulty(
        ["unshuffled_data"], ["lr_too_low", "bad_initial_loss", "symmetric_init", "vanishing_gradients",
                              "dead_relu", "saturated_activations", "input_not_normalized", "divergence"],
        ["noisy_loss", "loss_plateau", "underfitting", "overfitting", "lr_too_high", "no_learning", "majority_class"],
        "TDC unshuffled data")),
    "C2-TVM-CANCER": dict(fault="validation inputs not standardised (scaler applied to train only)", **_faulty(
        ["train_val_mismatch"], ["overfitting", "divergence", "lr_too_high", "lr_too_low", "input_not_normalized",
                                 "bad_initial_loss", "dead_relu", "vanishing_gradients", "no_learning"],
        [], "TDC normalisation family (pipeline mismatch)")),
    "C2-TVM-CNN": dict(fault="validation pixels left at 0..16 while training images are standardised", **_faulty(
        ["train_val_mismatch"], ["overfitting", "divergence", "lr_too_high", "lr_too_low", "input_not_normalized",
                                 "bad_initial_loss", "dead_relu", "vanishing_gradients", "no_learning"],
        [], "TDC normalisation family (pipeline mismatch)")),
    "C2-OR-CNN": dict(fault="weight decay 0.1 with Adam on a CNN (digits)", **_faulty(
        ["over_regularization"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "bad_initial_loss",
                                  "symmetric_init", "input_not_normalized"],
        ["underfitting", "loss_plateau", "lr_too_low", "dead_relu", "vanishing_gradients", "no_learning"],
        "TDC over_regularization; DEF Regularization")),
    "C2-OR-MOONS": dict(fault="weight decay 0.03 with SGD momentum 0.9 on an MLP (moons)", **_faulty(
        ["over_regularization"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "bad_initial_loss",
                                  "symmetric_init", "input_not_normalized"],
        ["underfitting", "loss_plateau", "lr_too_low", "dead_relu", "vanishing_gradients", "no_learning"],
        "TDC over_regularization; DEF Regularization")),
    "C2-MC-SYN3": dict(fault="90 % of the data in one class, weak features: the MLP predicts the majority class", **_faulty(
        ["majority_class"], ["bad_initial_loss", "overfitting", "divergence", "lr_too_high", "dead_relu",
                             "input_not_normalized", "symmetric_init", "exploding_gradients"],
        ["loss_plateau", "lr_too_low", "underfitting", "no_learning"], "TDC unbalanced_data; SMD class_imbalance")),
    "C2-MC-BIN": dict(fault="93 % of the data in one class (binary), weak features: the model predicts the majority", **_faulty(
        ["majority_class"], ["bad_initial_loss", "overfitting", "divergence", "lr_too_high", "dead_relu",
                             "input_not_normalized", "symmetric_init", "exploding_gradients", "saturated_activations"],
        ["loss_plateau", "lr_too_low", "underfitting", "no_learning"], "TDC unbalanced_data; SMD class_imbalance")),
    "C2-UF-TINY-CNN": dict(fault="CNN with 1 and 2 channels and 4 hidden units: too small for digits, train and val track each other", **_faulty(
        ["underfitting"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "bad_initial_loss",
                           "symmetric_init", "input_not_normalized", "no_learning"],
        ["loss_plateau", "lr_too_low", "dead_relu"], "DEF model capacity; DFD layer")),
    "C2-UF-LINEAR-MOONS": dict(fault="logistic regression on moons: a linear model cannot separate the classes", **_faulty(
        ["underfitting"], ["overfitting", "lr_too_high", "divergence", "exploding_gradients", "symmetric_init",
                           "input_not_normalized", "no_learning", "dead_relu", "saturated_activations"],
        # PyTorch's default init starts one seed at loss 1.26 (ln 2 = 0.69): borderline, not the fault
        ["loss_plateau", "lr_too_low", "bad_initial_loss"], "DEF model capacity; DFD layer")),
    "C2-LRL-SCHED-CNN": dict(fault="ExponentialLR(0.95) stepped every batch: lr falls to ~0 in the first epochs", **_faulty(
        ["lr_too_low"], ["lr_too_high", "divergence", "overfitting", "dead_relu", "symmetric_init", "vanishing_gradients",
                         "bad_initial_loss", "input_not_normalized"],
        ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause; DFD lr")),
    "C2-LRL-SGD-CANCER": dict(fault="SGD lr 1e-5 without momentum: the loss barely moves", **_faulty(
        ["lr_too_low"], ["lr_too_high", "divergence", "overfitting", "dead_relu", "symmetric_init", "vanishing_gradients",
                         "bad_initial_loss", "input_not_normalized"],
        ["loss_plateau", "underfitting", "no_learning"], "AT slow convergence; DFD lr")),
    "C2-LRH-ADAM-MOONS": dict(fault="Adam at lr 1.0: update ratios far above 1e-3 the whole run", **_faulty(
        ["lr_too_high"], ["lr_too_low", "vanishing_gradients", "overfitting", "symmetric_init", "bad_initial_loss",
                          "input_not_normalized", "majority_class", "unshuffled_data"],
        ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning", "exploding_gradients"],
        "AT oscillating loss; DFD lr")),
    "C2-LRH-ADAM-CNN": dict(fault="Adam at lr 0.1 on a CNN: update ratios far above 1e-3", **_faulty(
        ["lr_too_high"], ["lr_too_low", "vanishing_gradients", "overfitting", "symmetric_init", "bad_initial_loss",
                          "input_not_normalized", "majority_class", "unshuffled_data"],
        ["dead_relu", "divergence", "noisy_loss", "loss_plateau", "underfitting", "no_learning", "exploding_gradients"],
        "AT oscillating loss; DFD lr")),
    "C2-BS1-WINE": dict(fault="batch size 1 (per-sample losses), SGD 0.01 on wine", **_faulty(
        ["noisy_loss"], ["dead_relu", "divergence", "lr_too_low", "vanishing_gradients", "symmetric_init",
                         "bad_initial_loss", "overfitting", "exploding_gradients", "unshuffled_data"],
        ["lr_too_high"], "AT OL; DFD batch size")),
    "C2-DIV-CANCER": dict(fault="SGD lr 3.0 momentum 0.9: the loss explodes to inf/NaN", **_faulty(
        ["divergence"], ["lr_too_low", "vanishing_gradients", "overfitting", "underfitting", "bad_initial_loss",
                         "symmetric_init", "input_not_normalized"],
        ["lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "loss_plateau", "no_learning"],
        "AT EG/NaN; DD numerical errors")),
    "C2-VG-DEEP-TANH": dict(fault="10 hidden tanh layers initialised N(0, 0.05): gradients vanish towards the input", **_faulty(
        ["vanishing_gradients"], ["saturated_activations", "dead_relu", "divergence", "lr_too_high", "bad_initial_loss",
                                  "input_not_normalized", "symmetric_init", "overfitting", "exploding_gradients"],
        ["loss_plateau", "underfitting", "no_learning", "lr_too_low", "majority_class"], "AT VG; TDC vanishing")),
    "C2-DR-BIAS-WINE": dict(fault="hidden ReLU biases initialised to -4: most units dead from the start", **_faulty(
        ["dead_relu"], ["saturated_activations", "divergence", "lr_too_high", "symmetric_init", "overfitting",
                        "input_not_normalized", "exploding_gradients"],
        ["loss_plateau", "underfitting", "no_learning", "vanishing_gradients", "lr_too_low", "bad_initial_loss", "majority_class"],
        "AT DR; TDC dead units")),
    "C2-ST-TANH-WINE": dict(fault="tanh MLP initialised N(0, 2) on standardised inputs: units saturated", **_faulty(
        ["saturated_activations"], ["dead_relu", "input_not_normalized", "divergence", "lr_too_high", "symmetric_init",
                                    "lr_too_low"],
        ["vanishing_gradients", "loss_plateau", "underfitting", "bad_initial_loss", "overfitting", "noisy_loss"],
        "AT saturated activations; TDC saturation")),
    "C2-H-CNN-SGD": dict(fault="healthy CNN on digits images, SGD momentum (control)", source="AT normal", **_CONTROL),
    "C2-H-BLOBS-TANH": dict(fault="healthy one-hidden-layer tanh MLP on blobs, Adam (control)", source="AT normal", **_CONTROL),
    "C2-BS1-MOONS": dict(fault="batch size 1 with Adam on moons (per-sample losses)", **_faulty(
        ["noisy_loss"], ["dead_relu", "divergence", "lr_too_low", "vanishing_gradients", "symmetric_init",
                         "bad_initial_loss", "overfitting", "exploding_gradients", "unshuffled_data"],
        ["lr_too_high"], "AT OL; DFD batch size")),
    "C2-VG-SIGMOID-CNN": dict(fault="six sigmoid conv layers, SGD: gradients vanish towards the input", **_faulty(
        ["vanishing_gradients"], ["dead_relu", "divergence", "lr_too_high", "bad_initial_loss", "input_not_normalized",
                                  "symmetric_init", "overfitting", "exploding_gradients"],
        ["loss_plateau", "underfitting", "no_learning", "lr_too_low", "saturated_activations"], "AT VG; TDC vanishing")),
    "C2-LRL-STEPLR-MOONS": dict(fault="StepLR(step_size=1, gamma=0.7) stepped every batch: lr ~0 after 50 steps", **_faulty(
        ["lr_too_low"], ["lr_too_high", "divergence", "overfitting", "dead_relu", "symmetric_init", "vanishing_gradients",
                         "bad_initial_loss", "input_not_normalized"],
        ["loss_plateau", "underfitting", "no_learning"], "DEF LR root cause; DFD lr")),
    "C2-DIV-REG": dict(fault="regression on targets in the hundreds, SGD momentum: the loss explodes to inf/NaN", **_faulty(
        ["divergence"], ["lr_too_low", "vanishing_gradients", "overfitting", "underfitting", "symmetric_init",
                         "input_not_normalized"],
        ["lr_too_high", "exploding_gradients", "dead_relu", "noisy_loss", "loss_plateau", "bad_initial_loss"],
        "AT EG (unscaled target); DD numerical errors")),
}


def checked_label(case: str, out: dict) -> dict:
    """`out` once its must / must_not / allowed lists are checked: disjoint, and every code known."""
    overlap = set(out["must"]) & set(out["must_not"]) | set(out["must"]) & set(out["allowed"]) | set(out["must_not"]) & set(out["allowed"])
    assert not overlap and all(x in ALL_CODES for x in out["must"] + out["must_not"] + out["allowed"]), (case, overlap)
    return out


def label_of(cases: Dict[str, dict], case: str, seed: int) -> dict:
    """The label of one run of `cases` (any program set's CASES): a control forbids every code but `allowed`."""
    c = dict(cases[case])
    out = {"case": case, "seed": seed, "fault": c["fault"], "must": c["must"]}
    if c["control"]:
        out["must_not"] = [x for x in ALL_CODES if x not in c["allowed"]]
    else:
        out["must_not"] = c["must_not"]
    out.update(allowed=c["allowed"], control=c["control"], source=c["source"])
    return checked_label(case, out)


def label(case: str, seed: int) -> dict:
    return label_of(CASES, case, seed)


def main(build_fn: Callable, run_fn: Callable) -> None:
    """What each program set's ``__main__`` does: run the case and seed named on the command line and
    print its summary on one line (record.py prints it)."""
    name, s = sys.argv[1], int(sys.argv[2])
    result = run_fn(name, s, build_fn(name, s))
    print(name, s, " ".join("%s=%.4g" % kv for kv in result.items()), flush=True)


if __name__ == "__main__":
    main(build, run)

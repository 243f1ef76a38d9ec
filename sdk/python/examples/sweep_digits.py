"""Coarse-to-fine random search of the learning rate and weight decay of a small MLP on scikit-learn's
digits (bundled with sklearn: no download), watched by babysit.

    python sdk/python/examples/sweep_digits.py                 # 12 coarse trials of 2 epochs, then 8 fine ones of 3
    python sdk/python/examples/sweep_digits.py --workers 2     # the same search shared by 2 processes

Stage 1 samples lr in [1e-5, 10] and weight decay in [1e-7, 1e-1] log-uniformly (scale parameters:
each decade gets as many trials), trains each trial 2 epochs and stops a trial early when
run.should_stop() says it diverged or trails the others. Stage 2 is sweep.refine(top=3): the ranges
narrowed around the 3 best trials (widened where the best sit on an edge). Open the sweep's page (its
address is printed) to see the trials, the scatter per parameter and the boundary alerts.

The server is $BABYSIT_URL, else http://127.0.0.1:3000 (or --url). Needs torch and scikit-learn.
"""

import argparse
import multiprocessing
import uuid

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import babysit


def data(seed=0):
    digits = load_digits()  # 1797 8x8 images, 10 classes
    X, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=1000, test_size=400, random_state=seed, stratify=y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    X_train, X_val = (X_train - mean) / std, (X_val - mean) / std
    return [torch.from_numpy(a) for a in (X_train, y_train, X_val, y_val)]


def train_trial(trial, epochs, X_train, y_train, X_val, y_val):
    """One trial: a 64-128-10 MLP trained with SGD + momentum at the trial's lr and weight decay."""
    cfg = trial.config
    torch.manual_seed(trial.index)
    model = nn.Sequential(nn.Linear(64, cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], 10))
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=cfg["weight_decay"])
    run = trial.init(config={"epochs": epochs})  # recorded with the trial's values (not searched)
    step = 0
    for epoch in range(epochs):
        perm = torch.randperm(len(X_train))
        for i in range(0, len(X_train), cfg["batch_size"]):
            idx = perm[i:i + cfg["batch_size"]]
            loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.log({"train/loss": loss.detach()}, step=step)
            step += 1
        with torch.no_grad():
            out = model(X_val)
            val_loss = F.cross_entropy(out, y_val).item()
            val_acc = (out.argmax(1) == y_val).float().mean().item()
        run.log({"val/loss": val_loss, "val/acc": val_acc}, step=step, epoch=epoch + 1)
        if run.should_stop():  # diverged, or clearly below the other trials at this step
            print("  trial %d stopped early after epoch %d: %s" % (trial.index, epoch + 1, run.stop_reason))
            break
    run.finish()
    return val_acc


def worker(url, project, name, space, trials, epochs=2, seed=None):
    """A search loop; with --workers N, N processes run it on the same sweep, each claiming its own trials."""
    X_train, y_train, X_val, y_val = data()
    sweep = babysit.sweep(project=project, name=name, space=space, objective="val/acc", goal="max", budget=trials, url=url,
                          seed=seed)
    for trial in sweep.trials():
        acc = train_trial(trial, epochs, X_train, y_train, X_val, y_val)
        print("  trial %2d  lr=%.2e  wd=%.2e  val/acc=%.3f" % (trial.index, trial.config["lr"], trial.config["weight_decay"], acc))
    return sweep


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="babysit server (default $BABYSIT_URL or http://127.0.0.1:3000)")
    p.add_argument("--project", default="digits-sweep")
    p.add_argument("--name", default=None, help="sweep name (default: coarse-<random>)")
    p.add_argument("--coarse", type=int, default=12, help="trials of the coarse stage")
    p.add_argument("--fine", type=int, default=8, help="trials of the fine stage")
    p.add_argument("--workers", type=int, default=1, help="processes sharing each stage")
    p.add_argument("--seed", type=int, default=None, help="the sweep's seed (default: the server picks one)")
    args = p.parse_args(argv)
    name = args.name or "coarse-" + uuid.uuid4().hex[:6]

    # stage 1, coarse: wide ranges, 2 epochs per trial
    space = {
        "lr": babysit.log_uniform(1e-5, 10.0),
        "weight_decay": babysit.log_uniform(1e-7, 1e-1),
        "hidden": 128,
        "batch_size": 64,
    }
    print("stage 1: %d trials of %s" % (args.coarse, space))
    if args.workers > 1:
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=worker, args=(args.url, args.project, name, space, args.coarse, 2, args.seed)) for _ in range(args.workers)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        coarse = babysit.sweep(project=args.project, name=name, space=space, objective="val/acc", goal="max",
                               budget=args.coarse, url=args.url, seed=args.seed)
    else:
        coarse = worker(args.url, args.project, name, space, args.coarse, seed=args.seed)

    # stage 2, fine: the ranges narrowed around the 3 best trials, 3 epochs per trial
    fine = coarse.refine(top=3, budget=args.fine)
    if fine is None:
        print("no refinement (see the warning above)")
        return
    print("stage 2: %d trials of %s" % (args.fine, fine.space))
    X_train, y_train, X_val, y_val = data()
    for trial in fine.trials():
        acc = train_trial(trial, 3, X_train, y_train, X_val, y_val)
        print("  trial %2d  lr=%.2e  wd=%.2e  val/acc=%.3f" % (trial.index, trial.config["lr"], trial.config["weight_decay"], acc))
    view = fine.get()
    if view and view.get("best"):
        best = next(t for t in view["trials"] if t["runId"] == view["best"][0])
        print("best of stage 2: val/acc %.3f with %s -> %s" % (best["objective"], best["params"], fine.url))


if __name__ == "__main__":
    main()

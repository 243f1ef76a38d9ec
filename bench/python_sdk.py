"""Benchmark of the Python SDK: what log() and watch() cost a training loop.

    /usr/bin/python3 bench/python_sdk.py            # against the fake server (tests/sdk/python), in a subprocess
    BABYSIT_URL=http://127.0.0.1:3000 /usr/bin/python3 bench/python_sdk.py   # against a real server

Prints log()'s cost per call, and the time of one training step of a small CPU MLP (64-128-64-10,
batch 64, Adam) without babysit, with log() of the loss, with watch(every=10) alone, and with both,
as ratios against the step without babysit, measured in the same process in interleaved rounds. Then
the cost of each kind of step under watch(every=10): the 9 in 10 that do not measure, the ones that
do, and the ones that also take histograms, from watched and unwatched steps that alternate one by
one. Where CUDA is available, the same configurations on two CUDA training loops (an MLP and a small
CNN), in rounds of 50 steps timed between synchronizations.

On a machine of two vCPUs (one physical core), Debian's torch runs an OpenBLAS thread that spins on
the second one; run with OPENBLAS_NUM_THREADS=1 there, or every figure is noise.

Three clocks, each the 10th percentile of many rounds in which the configurations take turns step by
step, because a shared machine makes time noisy: wall, the CPU time of the training thread alone
(what babysit adds to the loop itself), and the CPU time of the whole process (adds babysit's
background sender thread: what it costs where cores are scarce).
"""

import multiprocessing as mp
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "sdk", "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sdk", "python"))

import babysit  # noqa: E402


def _serve(q):
    from fake_server import FakeServer

    srv = FakeServer()
    q.put(srv.url)
    while True:
        time.sleep(3600)


def start_fake_server():
    """The fake server in its own process, so that it does not compete for this process's GIL."""
    ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(q,), daemon=True)
    proc.start()
    return proc, q.get(timeout=30)


def time_log(run, make_metrics, n, repeats=5):
    """Best of `repeats` runs of n calls, in training-thread CPU microseconds per call."""
    metrics = make_metrics()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        for i in range(n):
            run.log(metrics, step=i)
        best = min(best, (time.thread_time() - t0) / n * 1e6)
    return best


def train_step(run, model, opt, x, y, log, it):
    """One step of the training loops measured here: cross-entropy, Adam, log() of the loss or not."""
    import torch.nn.functional as F

    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if log:
        run.log({"train/loss": loss.detach()}, step=it)


def main():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    url = os.environ.get("BABYSIT_URL")
    proc = None
    if not url:
        proc, url = start_fake_server()
        where = "fake server in a subprocess (%s)" % url
    else:
        where = "BABYSIT_URL=%s" % url
    os.environ.setdefault("BABYSIT_SPOOL_DIR", tempfile.mkdtemp(prefix="babysit-bench-"))
    print("babysit Python SDK bench: %s" % where)
    print("python %s, torch %s, %d CPU threads" % (sys.version.split()[0], torch.__version__, torch.get_num_threads()))

    run = babysit.init(project="bench", name="python-sdk", url=url, quiet=True)

    # ---------------------------------------------------------------- log() per call
    import numpy as np

    n = 20_000

    def noop(metrics, step=None):
        pass

    d = {"train/loss": 0.5, "train/acc": 0.9}
    call_us = float("inf")
    for _ in range(5):
        t0 = time.thread_time()
        for i in range(n):
            noop(d, step=i)
        call_us = min(call_us, (time.thread_time() - t0) / n * 1e6)
    rows = [
        ("log() 2 Python floats", time_log(run, lambda: {"train/loss": 0.5, "train/acc": 0.9}, n)),
        ("log() 10 Python floats", time_log(run, lambda: {"k%d" % j: 0.5 for j in range(10)}, n)),
        ("log() 2 numpy float32", time_log(run, lambda: {"train/loss": np.float32(0.5), "train/acc": np.float32(0.9)}, n)),
        ("log() 2 CPU 0-dim tensors", time_log(run, lambda: {"train/loss": torch.tensor(0.5), "train/acc": torch.tensor(0.9)}, n)),
    ]
    run.finish(timeout=30)
    print()
    print("%-34s %14s %10s" % ("call (training-thread CPU time)", "us/call", "x no-op"))
    print("%-34s %14.2f %10.2f" % ("no-op Python call (baseline)", call_us, 1.0))
    for label, us in rows:
        print("%-34s %14.2f %10.1f" % (label, us, us / call_us))

    # ---------------------------------------------------------------- watch() overhead
    torch.manual_seed(0)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act1 = nn.Linear(64, 128), nn.ReLU()
            self.fc2, self.act2 = nn.Linear(128, 64), nn.ReLU()
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))

    x, y = torch.randn(64, 64), torch.randint(0, 10, (64,))
    run = babysit.init(project="bench", name="python-sdk-watch", url=url, quiet=True)
    clocks = (time.perf_counter, time.thread_time, time.process_time)

    def one_step(model, opt, log, it):
        train_step(run, model, opt, x, y, log, it)

    configs = [
        ("no babysit (baseline)", False, None),
        ("+ log(loss tensor)", True, None),
        ("+ watch(every=10), no log()", False, dict(every=10, hist_every=100)),
        ("+ log + watch(every=10)", True, dict(every=10, hist_every=100)),
        ("+ log + watch(every=100)", True, dict(every=100, hist_every=1000)),
    ]
    worst = ("+ log + watch(every=1) [worst case]", True, dict(every=1, hist_every=10))
    k, rounds = 100, 40

    def measure(configs, run):
        """Per configuration, a list of rounds of (wall, thread CPU, process CPU) us per step."""
        # One identical model per configuration, watched for the whole pass, so that each watcher
        # keeps its own step count. Within a round every configuration makes one step in turn, so
        # that a burst of load from other processes hits them alike, in a shuffled order: a step pays
        # for some of what the step before it left in the caches, whichever configuration that was.
        setups = []
        for label, log, watch_kw in configs:
            torch.manual_seed(0)
            model = MLP()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            if watch_kw:
                run.watch(model, opt, **watch_kw)
            for it in range(100):  # warm-up
                one_step(model, opt, log, it)
            setups.append((label, model, opt, log))
        times = {c[0]: [] for c in configs}
        it = 100
        order = list(setups)
        shuffle = random.Random(0).shuffle
        for _ in range(rounds):
            sums = {c[0]: [0.0, 0.0, 0.0] for c in configs}
            for _ in range(k):
                shuffle(order)
                for label, model, opt, log in order:
                    t0 = [c() for c in clocks]
                    one_step(model, opt, log, it)
                    acc = sums[label]
                    for i, c in enumerate(clocks):
                        acc[i] += c() - t0[i]
                it += 1
            for label, acc in sums.items():
                times[label].append([v / k * 1e6 for v in acc])
        return times

    def summary(rows):
        # The 10th percentile round of each clock: on a shared machine, other load only ever adds time.
        return [sorted(r[i] for r in rows)[rounds // 10] for i in range(3)]

    times = measure(configs, run)
    ok = run.finish(timeout=30)
    # The worst case in a pass of its own: its background sender works hard, and would slow the others.
    run = babysit.init(project="bench", name="python-sdk-watch-every-1", url=url, quiet=True)
    times_worst = measure([configs[0], worst], run)
    ok = run.finish(timeout=30) and ok

    print()
    print("training step, MLP 64-128-64-10, batch 64, Adam (us/step, and x the baseline)")
    print("%-38s %18s %18s %18s" % ("10th percentile round of each clock", "wall", "train thread CPU", "process CPU"))
    base = summary(times[configs[0][0]])
    rows = [(label, summary(times[label]), base) for label, _, _ in configs]
    rows.append((worst[0], summary(times_worst[worst[0]]), summary(times_worst[configs[0][0]])))
    for label, vals, b in rows:
        print("%-38s %18s %18s %18s" % (label, *("%8.1f  x%6.3f" % (v, v / bv) for v, bv in zip(vals, b))))
    print("(%d rounds of %d steps of each configuration, one step of each in turn, shuffled; the worst case"
          % (rounds, k))
    print(" against a baseline of its own pass; process CPU includes the background sender, which serves every")
    print(" configuration of a pass; everything delivered: %s)" % ok)

    # ---------------------------------------------------------------- per-step breakdown of watch(every=10)
    # One step of an unwatched model, then one of a watched model, and so on: both see the same load at
    # the same moment. A low quantile of each kind of step resists bursts of load from other processes
    # better than sums or medians do.
    run = babysit.init(project="bench", name="python-sdk-steps", url=url, quiet=True)
    pair = []
    for watched in (False, True):
        torch.manual_seed(0)
        model = MLP()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        if watched:
            run.watch(model, opt, every=10, hist_every=100)
        pair.append((model, opt))
    per = {"base": [], "plain": [], "measure": [], "hist": []}
    for it in range(5000):
        kind = "hist" if it % 100 == 0 else "measure" if it % 10 == 0 else "plain"
        for which, (model, opt) in enumerate(pair):
            t0 = time.perf_counter()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.log({"train/loss": loss.detach()}, step=it)
            per["base" if which == 0 else kind].append((time.perf_counter() - t0) * 1e6)
    run.finish(timeout=30)
    q = {k: sorted(v)[len(v) // 10] for k, v in per.items()}  # 10th percentile
    avg = (90 * q["plain"] + 9 * q["measure"] + q["hist"]) / 100
    print()
    print("watch(every=10, hist_every=100), one step at a time: unwatched and watched steps alternate")
    print("(10th percentile of each kind of step, us; log() of the loss in both)")
    print("%-44s %10.1f" % ("step, not watched", q["base"]))
    print("%-44s %10.1f  (%+.1f)" % ("watched, not measuring (9 in 10)", q["plain"], q["plain"] - q["base"]))
    print("%-44s %10.1f  (%+.1f)" % ("watched, measuring (1 in 10)", q["measure"], q["measure"] - q["base"]))
    print("%-44s %10.1f  (%+.1f)" % ("watched, measuring + histograms (1 in 100)", q["hist"], q["hist"] - q["base"]))
    print("%-44s %10.1f  x%.3f" % ("=> average watched step, x the unwatched one", avg, avg / q["base"]))

    if torch.cuda.is_available():
        cuda_watch(url)
    else:
        print()
        print("CUDA: no GPU here, the CUDA training loops are skipped")
    if proc is not None:
        proc.terminate()


def cuda_watch(url, dev="cuda", rounds=30):
    """watch() on CUDA training loops: rounds of 50 steps timed between two synchronizations, the
    configurations taking turns round by round (shuffled), median round of each."""
    import torch
    import torch.nn as nn

    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def mlp():
        return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))

    def cnn():
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 14 * 14, 128), nn.ReLU(), nn.Linear(128, 10))

    cases = [("MLP 784-1024-1024-10, batch 256", mlp, (256, 784)), ("CNN 2 conv + 2 fc, 28x28, batch 128", cnn, (128, 1, 28, 28))]
    print()
    print("CUDA (%s), torch %s: ms per step, median of %d rounds of 50 steps, x the baseline" % (
        torch.cuda.get_device_name(0) if dev == "cuda" else dev, torch.__version__, rounds))
    for title, make, shape in cases:
        g = torch.Generator(device=dev).manual_seed(0)
        x = torch.randn(*shape, device=dev, generator=g)
        y = torch.randint(0, 10, (shape[0],), device=dev, generator=g)
        run = babysit.init(project="bench", name="python-sdk-cuda", url=url, quiet=True)
        configs = [("no babysit (baseline)", False, None), ("+ log(loss tensor)", True, None),
                   ("+ log + watch(every=10)", True, 10), ("+ log + watch(every=1) [worst case]", True, 1)]
        setups = []
        for label, log, every in configs:
            torch.manual_seed(0)
            model = make().to(dev)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            if every:
                run.watch(model, opt, every=every, hist_every=every * 10, name="every%d" % every)
            setups.append([label, model, opt, log, []])

        def steps(model, opt, log, n, it0):
            for it in range(it0, it0 + n):
                train_step(run, model, opt, x, y, log, it)

        for s in setups:  # warm-up: kernels chosen, allocator primed
            steps(s[1], s[2], s[3], 30, 0)
        sync()
        order = list(setups)
        rnd = random.Random(0)
        it = 30
        for _ in range(rounds):
            rnd.shuffle(order)
            for s in order:
                sync()
                t0 = time.perf_counter()
                steps(s[1], s[2], s[3], 50, it)
                sync()
                s[4].append((time.perf_counter() - t0) / 50 * 1e3)
            it += 50
        ok = run.finish(timeout=60)
        base = sorted(setups[0][4])[rounds // 2]
        print("  %s" % title)
        for label, _, _, _, times in setups:
            med = sorted(times)[rounds // 2]
            print("    %-38s %8.3f  x%.3f" % (label, med, med / base))
        print("    (everything delivered: %s)" % ok)


if __name__ == "__main__":
    main()

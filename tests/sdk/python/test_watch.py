"""watch() on small torch models, against the fake server."""

import math
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import babysit  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


class MLP(nn.Module):
    def __init__(self, act=nn.ReLU, hidden=32, d_in=64):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.act1 = act()
        self.fc2 = nn.Linear(hidden, hidden)
        self.act2 = act()
        self.fc3 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


def data(n=128, d=64, device="cpu", raw=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 17, (n, d), generator=g).float() if raw else torch.randn(n, d, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return x.to(device), y.to(device)


def train(model, opt, x, y, iters, log_first=False, step0=0, eval_every_iter=False, log_every=1):
    """`iters` training iterations; log() of the loss every `log_every` (0: never), before the update
    with `log_first`."""
    for it in range(step0, step0 + iters):
        out = model(x)
        loss = F.cross_entropy(out, y)
        logs = log_every > 0 and (it - step0) % log_every == 0
        if log_first and logs:
            babysit.log({"train/loss": loss}, step=it)
        if opt is not None:
            opt.zero_grad()
        else:
            model.zero_grad()
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
        if not log_first and logs:
            babysit.log({"train/loss": loss}, step=it)
        if eval_every_iter:
            model.eval()
            with torch.no_grad():
                model(torch.zeros_like(x))
            model.train()


def steps_of(server, run, key):
    return sorted(server.series(run.id, key))


def global_hooks():
    from torch.nn.modules import module

    return len(module._global_forward_hooks) + len(module._global_forward_pre_hooks)


def all_hooks(model):
    n = global_hooks()
    for m in model.modules():
        n += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(getattr(m, "_backward_hooks", {}) or {})
    for p in model.parameters():
        n += len(p._backward_hooks or {})
    return n


@pytest.mark.parametrize("device", DEVICES)
def test_watch_logs_every_series_on_the_loops_steps(server, make_run, device):
    torch.manual_seed(0)
    model = MLP().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data(device=device)
    run = make_run()
    babysit.watch(model, opt, every=5, hist_every=10)
    # The values the series must hold at iteration 0, measured by hand around the first step.
    w_before = model.fc1.weight.detach().clone()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    grad_norm0 = model.fc1.weight.grad.norm().item()
    opt.step()
    babysit.log({"train/loss": loss}, step=0)
    ratio0 = ((model.fc1.weight.detach() - w_before).norm() / w_before.norm()).item()
    train(model, opt, x, y, 19, step0=1)
    assert run.finish().delivered is True

    expected = {"train/loss", "lr"}
    for layer in ("fc1", "fc2", "fc3"):
        expected |= {"update_ratio/" + layer, "weight/%s/mean" % layer, "weight/%s/std" % layer,
                     "grad/%s/std" % layer, "grad/%s/norm" % layer}
    for layer in ("fc1", "fc2"):  # activations are named after the layer they activate
        expected |= {"act/%s/mean" % layer, "act/%s/std" % layer, "act/%s/dead_frac" % layer}
    assert server.keys(run.id) == expected
    for key in expected - {"train/loss"}:
        assert steps_of(server, run, key) == [0, 5, 10, 15], key
    hists = {(h["key"], h["step"]) for h in server.histograms(run.id)}
    assert hists == {(k, s) for k in ("act/fc1", "act/fc2", "grad/fc1", "grad/fc2", "grad/fc3",
                                      "weight/fc1", "weight/fc2", "weight/fc3") for s in (0, 10)}
    for h in server.histograms(run.id):
        assert len(h["counts"]) == 30 and len(h["edges"]) == 31
    act_hist = [h for h in server.histograms(run.id) if h["key"] == "act/fc1"][0]
    assert sum(act_hist["counts"]) == x.shape[0] * 32 and act_hist["edges"][0] == 0.0  # ReLU output

    s = lambda k: server.series(run.id, k)  # noqa: E731
    assert s("update_ratio/fc1")[0] == pytest.approx(ratio0, rel=1e-4)
    assert s("grad/fc1/norm")[0] == pytest.approx(grad_norm0, rel=1e-4)
    assert all(0 < v < 0.1 for v in s("update_ratio/fc2").values())
    assert all(0 <= v <= 1 for v in s("act/fc1/dead_frac").values())
    assert s("weight/fc1/std")[0] == pytest.approx(model.fc1.weight.std().item(), rel=0.05)
    assert all(v == 1e-3 for v in s("lr").values())


def test_stats_land_on_the_step_the_loop_logs_even_when_it_logs_before_the_update(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=5)
    train(model, opt, x, y, 20, log_first=True, step0=1)  # 1-based steps, logged before backward()
    run.finish()
    assert steps_of(server, run, "update_ratio/fc1") == [1, 6, 11, 16]
    assert steps_of(server, run, "act/fc1/mean") == [1, 6, 11, 16]


def test_steps_are_counted_when_the_loop_never_logs(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=4)
    train(model, opt, x, y, 12, log_every=0)
    run.finish()
    assert steps_of(server, run, "update_ratio/fc1") == [0, 4, 8]


def test_dead_frac_is_high_when_a_huge_negative_bias_kills_the_relus(server, make_run):
    x, y = data()
    runs = {}
    for case in ("dead", "healthy"):
        torch.manual_seed(1)
        model = MLP()
        if case == "dead":
            with torch.no_grad():
                model.fc1.bias.fill_(-100.0)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        runs[case] = make_run(name=case)
        babysit.watch(model, opt, every=2)
        train(model, opt, x, y, 6)
        runs[case].finish()
    dead = server.series(runs["dead"].id, "act/fc1/dead_frac")
    healthy = server.series(runs["healthy"].id, "act/fc1/dead_frac")
    assert len(dead) == 3 and all(v == 1.0 for v in dead.values())
    assert all(v < 0.2 for v in healthy.values())


@pytest.mark.parametrize("act", [nn.Tanh, nn.Sigmoid])
def test_saturated_frac_is_high_for_a_big_init_on_raw_inputs(server, make_run, act):
    results = {}
    for case in ("saturated", "normalized"):
        torch.manual_seed(2)
        model = MLP(act=act)
        if case == "saturated":  # N(0, 1) weights on raw 0..16 pixels, like the saturated_tanh fixture
            for layer in (model.fc1, model.fc2):
                nn.init.normal_(layer.weight, 0.0, 1.0)
        x, y = data(raw=(case == "saturated"))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        run = make_run(name=case)
        babysit.watch(model, opt, every=3)
        train(model, opt, x, y, 6)
        run.finish()
        results[case] = server.series(run.id, "act/fc1/saturated_frac")
        assert "act/fc1/dead_frac" not in server.keys(run.id)
    assert len(results["saturated"]) == 2 and all(v > 0.8 for v in results["saturated"].values())
    assert all(v < 0.05 for v in results["normalized"].values())


def test_without_optimizer_the_update_is_measured_between_forwards(server, make_run):
    torch.manual_seed(3)
    model = MLP()
    x, y = data()
    run = make_run()
    babysit.watch(model, every=3)
    w_before = model.fc2.weight.detach().clone()
    loss = F.cross_entropy(model(x), y)
    model.zero_grad()
    loss.backward()
    grad_norm0 = model.fc2.weight.grad.norm().item()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    ratio0 = ((model.fc2.weight.detach() - w_before).norm() / w_before.norm()).item()
    babysit.log({"train/loss": loss}, step=0)
    train(model, None, x, y, 8, step0=1, eval_every_iter=True)  # eval passes must not count as steps
    run.finish()
    assert steps_of(server, run, "update_ratio/fc2") == [0, 3, 6]
    assert steps_of(server, run, "act/fc1/mean") == [0, 3, 6]
    assert server.series(run.id, "update_ratio/fc2")[0] == pytest.approx(ratio0, rel=1e-4)
    assert server.series(run.id, "grad/fc2/norm")[0] == pytest.approx(grad_norm0, rel=1e-4)
    assert "lr" not in server.keys(run.id)


def test_unwatch_removes_every_hook_and_stops_logging(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    opt_dict_before = dict(opt.__dict__)
    watcher = babysit.watch(model, opt, every=2)
    assert all_hooks(model) > 0
    train(model, opt, x, y, 4)
    babysit.unwatch()
    assert all_hooks(model) == 0
    assert "step" not in opt.__dict__ or opt.__dict__.get("step") is opt_dict_before.get("step")
    assert not getattr(opt, "_optimizer_step_pre_hooks", {}) and not getattr(opt, "_optimizer_step_post_hooks", {})
    assert not watcher.active
    train(model, opt, x, y, 6, step0=4)
    run.finish()
    assert steps_of(server, run, "update_ratio/fc1") == [0, 2]


def test_finish_unwatches(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = make_run()
    babysit.watch(model, opt)
    run.finish()
    assert all_hooks(model) == 0


def test_lr_schedulers_keep_working_and_do_not_warn(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, y = data()
    run = make_run()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        babysit.watch(model, opt, every=1)
        after = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=1.0)
        for it in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            before.step()
            after.step()
            babysit.log({"it": it}, step=it)
    run.finish()
    assert not [w for w in caught if "lr_scheduler" in str(w.message) or "optimizer.step" in str(w.message)], [str(w.message) for w in caught]
    assert server.series(run.id, "lr") == {0: 1.0, 1: 0.5, 2: 0.25}


def test_a_reused_activation_module_gets_one_series_per_layer(server, make_run):
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 2)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.out(self.relu(self.fc2(self.relu(self.fc1(x)))))

    model = Shared()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = make_run()
    babysit.watch(model, opt, every=1)
    x, y = torch.randn(16, 8), torch.randint(0, 2, (16,))
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
    run.finish()
    assert {k for k in server.keys(run.id) if k.startswith("act/")} == {
        "act/fc1/mean", "act/fc1/std", "act/fc1/dead_frac", "act/fc2/mean", "act/fc2/std", "act/fc2/dead_frac"}


def test_functional_activations_are_reported_as_unseen(server, make_run, capfd):
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(8, 8), nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    model = Functional()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = make_run()
    babysit.watch(model, opt, every=1)
    opt.zero_grad()
    F.cross_entropy(model(torch.randn(4, 8)), torch.tensor([0, 1, 0, 1])).backward()
    opt.step()
    run.finish()
    assert "no activation modules" in capfd.readouterr().err
    assert "update_ratio/fc1" in server.keys(run.id)
    assert not any(k.startswith("act/") for k in server.keys(run.id))


def test_conv_net_dead_units_are_channels(server, make_run):
    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.relu = nn.ReLU()
            self.head = nn.Linear(4 * 8 * 8, 10)

        def forward(self, x):
            return self.head(self.relu(self.conv1(x)).flatten(1))

    torch.manual_seed(4)
    model = ConvNet()
    with torch.no_grad():
        model.conv1.bias[:2] = -100.0  # two of four channels dead
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    run = make_run()
    babysit.watch(model, opt, every=1)
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 10, (8,))
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
    run.finish()
    assert server.series(run.id, "act/conv1/dead_frac") == {0: 0.5}
    assert "update_ratio/conv1" in server.keys(run.id) and "grad/head/norm" in server.keys(run.id)


@pytest.mark.parametrize("shared", [False, True])
def test_an_activation_after_pooling_counts_channels_not_image_columns(server, make_run, shared):
    """Blank border columns (the digits' empty margins) are structurally zero at every position; a
    channel is dead only when it is zero at every position, so a live net reads 0 dead, not 1/4."""

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
            self.relu = nn.ReLU()
            self.relu_b = self.relu if shared else nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Linear(4 * 4 * 4, 10)

        def forward(self, x):
            return self.head(self.relu_b(self.pool(self.relu(self.conv1(x)))).flatten(1))

    torch.manual_seed(5)
    model = ConvNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    run = make_run()
    babysit.watch(model, opt, every=1)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    x[..., 5:] = 0.0  # the last three columns blank: conv columns 6-7, pooled column 3, are 0 everywhere
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
    run.finish()
    keys = [k for k in server.keys(run.id) if k.endswith("/dead_frac")]
    assert "act/conv1/dead_frac" in keys and len(keys) == 2
    for k in keys:
        assert server.series(run.id, k) == {0: 0.0}, k


@pytest.mark.skipif(not hasattr(torch, "compile"), reason="torch.compile came with torch 2")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("which", ["the compiled model", "the module it compiles"])
def test_a_compiled_model_is_watched(server, make_run, which, device):
    torch.manual_seed(0)
    model = MLP().to(device)
    compiled = torch.compile(model, backend="eager")  # dynamo traces it, no C++/Triton compiler needed
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data(device=device)
    run = make_run()
    babysit.watch(compiled if which == "the compiled model" else model, opt, every=2, hist_every=4)
    for it in range(8):
        loss = F.cross_entropy(compiled(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        babysit.log({"train/loss": loss}, step=it)
    run.finish()
    for key in ("act/fc1/mean", "act/fc2/dead_frac", "update_ratio/fc1", "grad/fc3/norm", "weight/fc2/std"):
        assert steps_of(server, run, key) == [0, 2, 4, 6], key  # names without the "_orig_mod." prefix
    assert all_hooks(model) == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_training_loop_never_waits_for_the_device(server, make_run):
    """torch's sync debug mode reports every call that makes the host wait for the GPU: none may come
    from the training thread, measuring iterations and histograms included (the sender thread's
    read-backs do wait, by design)."""
    import threading

    torch.manual_seed(0)
    model = MLP().cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data(device="cuda")
    run = make_run()
    babysit.watch(model, opt, every=2, hist_every=4)
    seen = []

    def show(message, category, filename, lineno, file=None, line=None):
        seen.append((threading.current_thread() is threading.main_thread(), str(message)))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        torch.cuda.set_sync_debug_mode("warn")
        try:
            torch.ones(1, device="cuda").item()  # a synchronizing call: the check sees it
            assert any(main and "synchroniz" in m for main, m in seen), seen
            seen.clear()
            for it in range(12):
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                babysit.log({"train/loss": loss}, step=it)
        finally:
            torch.cuda.set_sync_debug_mode(0)
    run.finish()
    assert [m for main, m in seen if main] == []
    assert steps_of(server, run, "act/fc1/mean") == [0, 2, 4, 6, 8, 10]
    assert steps_of(server, run, "update_ratio/fc2") == [0, 2, 4, 6, 8, 10]
    assert steps_of(server, run, "train/loss") == list(range(12))
    assert {h["step"] for h in server.histograms(run.id)} == {0, 4, 8}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_scalars_are_logged_without_waiting(server, make_run):
    run = make_run()
    t = torch.tensor(2.5, device="cuda")
    run.log({"loss": t * 2, "nan": torch.tensor(float("nan"), device="cuda")}, step=0)
    t.fill_(0)
    run.finish()
    assert server.rows(run.id)[0]["metrics"] == {"loss": 5.0, "nan": "NaN"}


def test_two_models_in_one_run_get_their_own_keys_on_the_loops_steps(server, make_run):
    torch.manual_seed(5)
    gen, disc = MLP(d_in=16), MLP(d_in=10)
    opt_g = torch.optim.SGD(gen.parameters(), lr=0.01)
    opt_d = torch.optim.SGD(disc.parameters(), lr=0.02)
    run = make_run()
    babysit.watch(gen, opt_g, every=2, name="gen")
    babysit.watch(disc, opt_d, every=3, name="disc")
    z, y = torch.randn(32, 16), torch.randint(0, 10, (32,))
    for it in range(1, 7):
        d_loss = F.cross_entropy(disc(gen(z).detach()), y)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -F.cross_entropy(disc(gen(z)), y)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        babysit.log({"d_loss": d_loss, "g_loss": g_loss}, step=it)
    run.finish()
    assert steps_of(server, run, "update_ratio/gen.fc1") == [1, 3, 5]
    assert steps_of(server, run, "update_ratio/disc.fc1") == [1, 4]
    assert steps_of(server, run, "act/gen.fc1/dead_frac") == [1, 3, 5]
    assert server.series(run.id, "lr/gen") == {1: 0.01, 3: 0.01, 5: 0.01}
    assert server.series(run.id, "lr/disc") == {1: 0.02, 4: 0.02}


@pytest.mark.parametrize("sync_free", [False, True])  # True: the path CUDA tensors take, run on the CPU
@pytest.mark.parametrize("case", ["normal", "with_non_finite", "constant", "all_nan"])
def test_device_histograms_count_every_finite_value(case, sync_free):
    np = pytest.importorskip("numpy")
    from babysit._watch import _device_histogram

    g = torch.Generator().manual_seed(0)
    x = {"normal": torch.randn(1000, generator=g),
         "with_non_finite": torch.cat([torch.randn(500, generator=g), torch.tensor([float("nan"), float("inf"), -float("inf")])]),
         "constant": torch.full((10,), 3.0),
         "all_nan": torch.full((4,), float("nan"))}[case]
    edges, counts = _device_histogram(x, bins=30, sync_free=sync_free)
    edges = edges.tolist() if hasattr(edges, "tolist") else edges
    counts = counts.tolist() if hasattr(counts, "tolist") else counts
    finite = x[torch.isfinite(x)]
    assert all(math.isfinite(e) for e in edges) and edges == sorted(edges)
    assert sum(counts) == finite.numel()
    if case in ("normal", "with_non_finite"):
        assert len(counts) == 30
        assert edges[0] == pytest.approx(finite.min().item()) and edges[-1] == pytest.approx(finite.max().item())
        expected, _ = np.histogram(finite.numpy(), bins=np.array(edges, dtype=np.float32))
        assert sum(abs(a - b) for a, b in zip(counts, expected.tolist())) <= 2  # float32 rounding at bin edges
    if case == "constant":
        assert edges[0] < 3.0 < edges[-1]


def test_device_scalars_are_read_back_in_one_transfer_per_device_and_dtype():
    from babysit._values import LazyScalar, resolve_lazy

    lazies = [LazyScalar(torch.tensor(1.5)), LazyScalar(torch.tensor([2.5])), LazyScalar(torch.tensor(3.0, dtype=torch.float64)),
              LazyScalar(torch.tensor(float("nan"))), LazyScalar(torch.tensor(7))]
    out = resolve_lazy(lazies)
    assert out[:3] == [1.5, 2.5, 3.0] and math.isnan(out[3]) and out[4] == 7.0
    assert all(lz.tensor is None for lz in lazies)  # device memory released


def test_stats_of_iterations_the_loop_does_not_log_get_their_own_step(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=5)
    train(model, opt, x, y, 20, log_every=7)  # logs at 0, 7, 14 only
    run.finish()
    assert steps_of(server, run, "update_ratio/fc1") == [0, 5, 10, 15]


# ---------------------------------------------------------------------- cost and exactness of watch()


def module_hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def forward_hooks(model):
    return module_hooks(model) + global_hooks()


def test_iterations_that_do_not_measure_run_no_module_hook(server, make_run):
    """With an optimizer, only the iterations that measure have hooks on the model's modules."""
    seen = []

    class Spy(nn.Module):  # records, during each forward, how many hooks the whole model carries
        def forward(self, x):
            seen.append(forward_hooks(model))
            return x

    torch.manual_seed(0)
    model = nn.Sequential(Spy(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=5, hist_every=10)
    between = []
    for it in range(12):
        F.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()
        between.append(forward_hooks(model))
        babysit.log({"loss": 1.0}, step=it)
    run.finish()
    measuring = {0, 5, 10}
    for it, n in enumerate(seen):
        if it in measuring:
            assert n > 0, it
        else:
            assert n == 0, (it, n)  # not even the pre-hook: it is armed only for a measuring iteration
    # After the step of iteration i, the pre-hook is on only if iteration i + 1 measures.
    assert [n > 0 for n in between] == [it + 1 in measuring for it in range(12)]
    assert steps_of(server, run, "update_ratio/1") == [0, 5, 10]


def _reference_case(case):
    """A model, and for each activation module: the label its statistics get, its kind, its unit dim."""
    torch.manual_seed(11)
    d = 16
    if case == "conv":
        class ConvNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
                self.relu = nn.ReLU()
                self.head = nn.Linear(4 * 4 * 4, 10)

            def forward(self, x):
                return self.head(self.relu(self.conv1(x.view(-1, 1, 4, 4))).flatten(1))

        model = ConvNet()
        with torch.no_grad():
            model.conv1.bias[:1] = -100.0  # one of four channels dead
        return model, {"relu": ("conv1", "relu", 1)}
    act = {"relu": nn.ReLU, "leaky": lambda: nn.LeakyReLU(0.1), "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
           "deep": nn.ReLU, "float64": nn.ReLU, "bfloat16": nn.ReLU, "no_optimizer": nn.ReLU}[case]
    # 5 layers take the all-layer buffers (unless the test turns them off), 3 go layer by layer
    widths = [d, 32, 24, 20, 12] if case in ("deep", "float64", "no_optimizer") else [d, 32, 24]
    mods, acts = [], {}
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        mods.append(act())
        kind = case if case in ("tanh", "sigmoid") else "relu"
        acts[str(2 * i + 1)] = (str(2 * i), kind, -1)  # module name: (label, kind, unit dim)
    mods.append(nn.Linear(widths[-1], 10))
    model = nn.Sequential(*mods)
    with torch.no_grad():
        model[0].bias[:5] = -100.0  # five dead units in the first activation
        if case in ("tanh", "sigmoid"):
            model[0].weight.mul_(8.0)  # some saturation
    if case == "float64":
        model = model.double()
    if case == "bfloat16":  # reductions accumulate in float32
        model = model.to(torch.bfloat16)
    return model, acts


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", ["sender", "flat", "layers", "fused"],
                         ids=["CPU copies reduced by the sender", "all-layer buffers", "layer by layer",
                              "accelerator activations"])
@pytest.mark.parametrize("case", ["relu", "deep", "leaky", "tanh", "sigmoid", "conv", "float64", "bfloat16",
                                  "no_optimizer"])
def test_values_match_a_straightforward_reference(server, make_run, monkeypatch, case, path, device):
    from babysit._watch import DEFER_BYTES, Watcher

    monkeypatch.setattr(Watcher, "_flat_ok", path != "layers")
    monkeypatch.setattr(Watcher, "_defer_ok", path == "sender")
    monkeypatch.setattr(Watcher, "_fused_act", True if path == "fused" else None if device != "cpu" else False)
    model, acts = _reference_case(case)
    model = model.to(device)
    dtype = next(model.parameters()).dtype
    opt = None if case == "no_optimizer" else torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(64, 16, generator=g, dtype=dtype).to(device)
    y = torch.randint(0, 10, (64,), generator=g).to(device)
    run = make_run()
    watcher = babysit.watch(model, opt, every=2, hist_every=2)
    layers = {n: m for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))}
    captured = {}
    handles = [model.get_submodule(n).register_forward_hook(
        lambda m, i, o, n=n: captured.__setitem__(n, o.detach().clone())) for n in acts]

    w_before = {n: m.weight.detach().clone() for n, m in layers.items()}
    loss = F.cross_entropy(model(x), y)
    (opt.zero_grad if opt is not None else model.zero_grad)()
    loss.backward()
    grads = {n: m.weight.grad.detach().clone() for n, m in layers.items()}
    if opt is not None:
        opt.step()
    else:
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    babysit.log({"loss": loss}, step=0)
    for h in handles:
        h.remove()
    w_after = {n: m.weight.detach().clone() for n, m in layers.items()}
    model(x)  # without an optimizer the next training forward closes the measured iteration
    full = dtype in (torch.float32, torch.float64)
    if path == "sender" and device == "cpu" and full:
        assert watcher._last_path == "sender"
    elif path != "layers" and full and len(layers) >= (4 if device == "cpu" else 2):
        assert watcher._last_path == "flat"
    else:
        assert watcher._last_path == "layers"
    run.finish()
    if watcher._last_path == "sender":
        assert watcher._budget.left == DEFER_BYTES  # every copy given back once the sender reduced it

    def std(t):
        return t.double().std(unbiased=False).item()

    w_before = {n: t.cpu() for n, t in w_before.items()}
    w_after = {n: t.cpu() for n, t in w_after.items()}
    grads = {n: t.cpu() for n, t in grads.items()}
    captured = {n: t.cpu() for n, t in captured.items()}

    expected = {}
    for n in layers:
        wb = w_before[n].double()
        expected["update_ratio/" + n] = ((w_after[n].double() - wb).norm() / wb.norm()).item()
        expected["weight/%s/mean" % n] = wb.mean().item()
        expected["weight/%s/std" % n] = std(wb)
        expected["grad/%s/std" % n] = std(grads[n])
        expected["grad/%s/norm" % n] = grads[n].double().norm().item()
    for mod_name, (label, kind, unit_dim) in acts.items():
        a = captured[mod_name].double()
        expected["act/%s/mean" % label] = a.mean().item()
        expected["act/%s/std" % label] = std(a)
        if kind == "relu":  # a unit (a feature, a channel) is dead when it is <= 0 for every example
            dead = (a <= 0).movedim(unit_dim % a.dim(), 0).flatten(1).all(dim=1)
            expected["act/%s/dead_frac" % label] = dead.double().mean().item()
        elif kind == "tanh":
            expected["act/%s/saturated_frac" % label] = (a.abs() > 0.99).double().mean().item()
        else:
            expected["act/%s/saturated_frac" % label] = ((a < 0.01) | (a > 0.99)).double().mean().item()
    if opt is not None:
        expected["lr"] = 1e-2

    got = {k: server.series(run.id, k) for k in server.keys(run.id) if k != "loss"}
    assert set(got) == set(expected)
    tol = {torch.float64: 1e-9, torch.bfloat16: 1e-2}.get(dtype, 1e-4)
    for key, value in expected.items():
        assert got[key] == {0: pytest.approx(value, rel=tol, abs=tol * 1e-2)}, key
    if case in ("relu", "conv"):
        assert 0 < min(v[0] for k, v in got.items() if k.endswith("dead_frac")) < 1

    hists = {h["key"]: h for h in server.histograms(run.id)}
    for n in layers:  # histograms of the same tensors: the weights the forward used, the gradients
        for key, t in (("weight/" + n, w_before[n]), ("grad/" + n, grads[n])):
            h = hists[key]
            assert h["step"] == 0 and sum(h["counts"]) == t.numel(), key
            assert h["edges"][0] == pytest.approx(t.min().item(), rel=1e-5, abs=1e-7), key
            assert h["edges"][-1] == pytest.approx(t.max().item(), rel=1e-5, abs=1e-7), key


def test_a_measured_iteration_is_read_back_in_one_transfer_and_never_in_the_loop(server, make_run, monkeypatch):
    """The accelerator path, taken on the CPU: the training thread reads nothing back; the sender
    thread reads each measured iteration (scalars and histograms) with one tolist() of one tensor."""
    import os
    import sys
    import threading

    import babysit._reduce as R
    from babysit._watch import HIST_BINS, Watcher

    monkeypatch.setattr(Watcher, "_sync_free_hist", True)
    monkeypatch.setattr(R, "CPU_READ_EACH", False)
    reads = {"loop": 0, "tolist": []}
    main = threading.current_thread()
    phase = ["loop"]
    real = {name: getattr(torch.Tensor, name) for name in ("tolist", "item", "__float__", "__bool__")}

    def spy(name):
        def read(self, *a, **k):
            caller = sys._getframe(1).f_code.co_filename  # babysit's reads only (Adam reads its step count)
            if os.sep + "babysit" + os.sep in caller:
                if phase[0] == "loop" and threading.current_thread() is main:
                    reads["loop"] += 1
                if name == "tolist":
                    reads["tolist"].append(self.numel())
            return real[name](self, *a, **k)

        return read

    torch.manual_seed(0)
    model = MLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data()
    run = make_run()
    # input statistics are read on a thread of their own (test_watch_inputs.py checks it): not counted here
    babysit.watch(model, opt, every=5, hist_every=10, input_stats=False)
    for name in real:
        monkeypatch.setattr(torch.Tensor, name, spy(name))
    for it in range(20):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        babysit.log({"train/loss": 1.0}, step=it)  # a float: log() of a CPU tensor reads it at once
    phase[0] = "finish"
    run.finish()
    for name, fn in real.items():
        monkeypatch.setattr(torch.Tensor, name, fn)
    assert reads["loop"] == 0
    assert len(reads["tolist"]) == 4  # iterations 0, 5, 10, 15: one transfer each, histograms included
    n = reads["tolist"]
    assert n[0] == n[2] == n[1] + 8 * (2 * HIST_BINS + 1) and n[1] == n[3]  # 8 histograms: edges and counts
    assert steps_of(server, run, "act/fc1/mean") == [0, 5, 10, 15]
    hists = {(h["key"], h["step"]) for h in server.histograms(run.id)}
    assert ("act/fc1", 10) in hists and ("weight/fc3", 0) in hists and len(hists) == 16
    for h in server.histograms(run.id):
        assert sum(h["counts"]) == (x.shape[0] * 32 if h["key"].startswith("act/") else
                                    dict(model.named_modules())[h["key"].split("/")[1]].weight.numel())


def test_cpu_histograms_binned_in_the_loop_when_too_many_values_wait(server, make_run, monkeypatch):
    import babysit._watch as W

    monkeypatch.setattr(W, "HIST_DEFER_ELEMENTS", 0)  # nothing left for the sender to bin
    torch.manual_seed(0)
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=1, hist_every=1)
    w_before = model.fc2.weight.detach().clone()
    train(model, opt, x, y, 1)
    run.finish()
    h = {h["key"]: h for h in server.histograms(run.id)}
    assert sum(h["weight/fc2"]["counts"]) == w_before.numel() and len(h["weight/fc2"]["counts"]) == 30
    assert h["weight/fc2"]["edges"][0] == pytest.approx(w_before.min().item())
    assert h["weight/fc2"]["edges"][-1] == pytest.approx(w_before.max().item())
    assert sum(h["act/fc1"]["counts"]) == x.shape[0] * 32


def test_a_reduction_that_fails_in_the_sender_leaves_its_metrics_out_not_nan(server, make_run, monkeypatch):
    """A made-up NaN would look like a diverging run to the server's diagnostics."""
    import babysit._watch as W

    real = W._act_count

    def broken(x, kind, other):
        if kind in ("relu0", "relu"):
            raise RuntimeError("simulated failure")
        return real(x, kind, other)

    monkeypatch.setattr(W, "_act_count", broken)
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    watcher = babysit.watch(model, opt, every=2)
    train(model, opt, x, y, 4)
    run.finish()
    assert watcher._last_path == "sender"
    keys = server.keys(run.id)
    assert not any(k.endswith("dead_frac") for k in keys)  # its count was the failing reduction
    for key in ("act/fc1/mean", "act/fc1/std", "update_ratio/fc1", "grad/fc2/norm"):
        assert steps_of(server, run, key) == [0, 2], key
        assert all(math.isfinite(v) for v in server.series(run.id, key).values()), key


def test_raw_numbers_are_read_in_order_whatever_their_shapes_and_dtypes():
    from babysit._watch import _read_all

    got = _read_all([torch.tensor(1.5), torch.tensor([[2.0, 3.0]]), torch.tensor(4, dtype=torch.int64),
                     torch.tensor(5.25, dtype=torch.float64), torch.tensor([6, 7])])
    assert got == [1.5, 2.0, 3.0, 4.0, 5.25, 6.0, 7.0]
    assert _read_all([]) == []


def test_a_deep_copy_taken_while_a_measuring_iteration_is_on_carries_no_watch_hook(server, make_run):
    from babysit.checks import _copy_without_watch_hooks

    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=1)
    loss = F.cross_entropy(model(x), y)  # iteration 0 measures: its hooks stay on until the step
    assert forward_hooks(model) > 1
    copied = _copy_without_watch_hooks(model)
    assert module_hooks(copied) == 0
    copied(x)
    loss.backward()
    opt.step()
    run.finish()
    assert steps_of(server, run, "act/fc1/mean") == [0]


@pytest.mark.parametrize("long_name", ["l" * 190, "\u5c64" * 195, "🚀" * 200])
def test_a_module_whose_keys_would_break_the_contract_is_left_out_with_a_warning_and_the_rest_delivered(
        server, make_run, long_name, capfd):
    # update_ratio/<name> or act/<name>/saturated_frac past 200 code points: the server would refuse
    # every batch those keys ride in, the loss logged beside them included
    torch.manual_seed(0)
    model = MLP()
    setattr(model, long_name, model.fc2)  # the same layer under a second, over-long name
    del model._modules["fc2"]

    def forward(x):
        return model.fc3(model.act2(getattr(model, long_name)(model.act1(model.fc1(x)))))

    model.forward = forward
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    run = make_run()
    babysit.watch(model, opt, every=5)
    assert "is not watched" in capfd.readouterr().err
    train(model, opt, x, y, 10)
    assert run.finish().delivered is True
    keys = server.keys(run.id)
    assert "train/loss" in keys and len(steps_of(server, run, "train/loss")) == 10
    assert "update_ratio/fc1" in keys and "update_ratio/fc3" in keys
    assert not any(long_name[:50] in k for k in keys)


def test_watch_keys_past_the_runs_key_limits_are_dropped_and_counted(server, make_run, monkeypatch):
    from babysit import _contract

    # Small limits stand for the contract's (10,000 metric and 2,000 histogram keys per run).
    monkeypatch.setattr(_contract, "KEYS_PER_RUN", 6)
    monkeypatch.setattr(_contract, "HISTOGRAM_KEYS_PER_RUN", 2)
    torch.manual_seed(0)
    model = MLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data()
    run = make_run()
    babysit.log({"train/loss": 1.0}, step=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        babysit.watch(model, opt, every=5, hist_every=10)
        train(model, opt, x, y, 20, step0=1)
        result = run.finish()
    assert len(server.keys(run.id)) == 6 and "train/loss" in server.keys(run.id)
    assert len({h["key"] for h in server.histograms(run.id)}) == 2
    reasons = dict(result.rejections)
    assert set(reasons) == {"dropped by the SDK: runs may have at most 10000 distinct metric keys (keysPerRun)",
                            "dropped by the SDK: runs may have at most 2000 distinct histogram keys (histogramKeysPerRun)"}
    assert result.rejected_points == sum(reasons.values()) > 0
    said = [str(w.message) for w in caught if issubclass(w.category, babysit.BabysitWarning)]
    assert sum("(keysPerRun)" in m for m in said) == 1 and sum("(histogramKeysPerRun)" in m for m in said) == 1


class _GRUHead(nn.Module):
    """A GRU in front of a linear head: watch() measures only the head, so the model is no linear model."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16, batch_first=True)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        return self.out(self.gru(x)[0][:, -1])


@pytest.mark.parametrize("make_model, params, watched, layers, modules", [
    (lambda: nn.Linear(64, 10), 650, 650, 1, {"Linear": 1}),
    (lambda: MLP(), 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10, 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10, 3,
     {"Linear": 3, "ReLU": 2}),
    (_GRUHead, 3 * (8 * 16 + 16 * 16 + 2 * 16) + 16 * 4 + 4, 16 * 4 + 4, 1, {"GRU": 1, "Linear": 1}),
    (lambda: nn.Sequential(nn.Embedding(50, 8), nn.Flatten(), nn.Linear(8 * 6, 3)), 50 * 8 + 8 * 6 * 3 + 3, 8 * 6 * 3 + 3, 1,
     {"Embedding": 1, "Flatten": 1, "Linear": 1}),
])
def test_watch_sends_one_model_event_saying_what_the_model_is_made_of(server, make_run, make_model, params, watched, layers,
                                                                      modules):
    model = make_model()
    run = make_run()
    babysit.watch(model)
    run.finish()
    events = server.events(run.id, "model")
    assert len(events) == 1
    assert events[0]["data"] == {"params": params, "params_watched": watched, "weighted_layers": layers, "modules": modules}


def test_frozen_parameters_are_not_counted(server, make_run):
    model = MLP()
    for p in model.fc1.parameters():
        p.requires_grad_(False)
    run = make_run()
    babysit.watch(model)
    run.finish()
    data = server.events(run.id, "model")[0]["data"]
    assert data["params"] == data["params_watched"] == 32 * 32 + 32 + 32 * 10 + 10

"""watch() sends input statistics of training and of evaluation batches, against the fake server."""

import copy
import io
import pickle
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import babysit  # noqa: E402

from test_watch import MLP  # noqa: E402


def epochs(model, opt, xtr, ytr, xva, n_epochs=3, batch=32, evals=("val",), log=True):
    """A plain loop: batches of xtr, then an evaluation pass (model.eval()) over the named sets."""
    step = 0
    for _ in range(n_epochs):
        model.train()
        for b in range(0, len(xtr), batch):
            loss = F.cross_entropy(model(xtr[b:b + batch]), ytr[b:b + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if log:
                babysit.log({"train/loss": loss}, step=step)
            step += 1
        model.eval()
        with torch.no_grad():
            for which in evals:
                x = xtr if which == "train" else xva
                for b in range(0, len(x), 100):
                    model(x[b:b + 100])
    model.train()
    return step


def sets(n=256, d=64, val_scale=1.0, val_shift=0.0):
    g = torch.Generator().manual_seed(0)
    xtr = torch.randn(n, d, generator=g)
    ytr = torch.randint(0, 10, (n,), generator=g)
    xva = torch.randn(n, d, generator=g) * val_scale + val_shift
    return xtr, ytr, xva


def stats_events(server, run, split=None):
    evs = [e for e in server.events(run.id, "input_stats") if e["data"].get("source") == "watch"]
    return [e for e in evs if e["data"].get("split") == split]


def test_a_training_batch_and_a_validation_batch_are_described_each_epoch(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets(val_scale=16.0, val_shift=8.0)
    run = make_run()
    babysit.watch(model, opt, every=3)
    epochs(model, opt, xtr, ytr, xva, n_epochs=3)  # 8 steps an epoch
    run.finish()
    train, val = stats_events(server, run), stats_events(server, run, "val")
    # the first measured iteration, then the first measured one after each of the 3 evaluation passes
    # (the last pass is followed by no training batch)
    assert [e["step"] for e in train] == [0, 8, 17]
    assert [e["step"] for e in val] == [7, 15, 23]  # the step the loop logged last before each pass
    for e in train:
        assert e["data"]["n"] == 32 and len(e["data"]["mean"]) == 64
        assert abs(sum(e["data"]["std"]) / 64 - 1.0) < 0.3
    for e in val:
        # the last batch of the pass: examples 200..255 (56, at least 32)
        assert e["data"]["n"] == 56
        ref = xva[200:].double()
        assert e["data"]["mean"] == pytest.approx(ref.mean(0).tolist(), rel=1e-5, abs=1e-5)
        assert e["data"]["std"] == pytest.approx(ref.std(0, unbiased=False).tolist(), rel=1e-5)


def test_the_validation_set_is_described_when_the_training_set_is_evaluated_first(server, make_run):
    model = MLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xtr, ytr, xva = sets(val_shift=50.0)
    run = make_run()
    babysit.watch(model, opt)
    epochs(model, opt, xtr, ytr, xva, n_epochs=2, evals=("train", "val"))
    run.finish()
    val = stats_events(server, run, "val")
    assert len(val) == 2  # once per evaluation pass, however many forwards it ran
    assert all(abs(sum(e["data"]["mean"]) / 64 - 50.0) < 1.0 for e in val)


@pytest.mark.parametrize("sizes, described", [
    ([100, 100, 7], 100),  # a last partial batch of a few examples is not the one described
    ([20, 20, 3], 20),  # smaller than 32: the pass's largest size is the norm
    ([1437, 360], 360),  # the training set evaluated, then the validation set (one forward each)
    ([1], None),  # a single example: nothing
])
def test_which_evaluation_batch_is_described(server, make_run, sizes, described):
    model = MLP()
    run = make_run()
    babysit.watch(model, torch.optim.SGD(model.parameters(), lr=0.01))
    model(torch.randn(8, 64)).sum().backward()
    model.eval()
    with torch.no_grad():
        for n in sizes:
            model(torch.randn(n, 64))
    model.train()
    run.finish()
    val = stats_events(server, run, "val")
    assert [e["data"]["n"] for e in val] == ([described] if described else [])


def test_training_forwards_and_steps_without_an_evaluation_pass_send_one_training_event(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, _ = sets()
    run = make_run()
    babysit.watch(model, opt, every=1)
    for _ in range(3):
        for b in range(0, 256, 32):
            loss = F.cross_entropy(model(xtr[b:b + 32]), ytr[b:b + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
            babysit.log({"loss": loss})
    run.finish()
    assert len(stats_events(server, run)) == 1
    assert stats_events(server, run, "val") == []


def test_without_an_optimizer_the_same_events_are_sent(server, make_run):
    model = MLP()
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model)
    for _ in range(2):
        model.train()
        for b in range(0, 256, 64):
            F.cross_entropy(model(xtr[b:b + 64]), ytr[b:b + 64]).backward()
        model.eval()
        with torch.no_grad():
            model(xva)
    model.train()
    run.finish()
    assert len(stats_events(server, run)) == 2
    assert len(stats_events(server, run, "val")) == 2


def test_input_stats_false_sends_nothing_and_leaves_train_alone(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model, opt, input_stats=False)
    assert "train" not in model.__dict__
    epochs(model, opt, xtr, ytr, xva, n_epochs=2)
    run.finish()
    assert server.events(run.id, "input_stats") == []


def test_unwatch_gives_the_model_its_own_train_back_and_sends_an_open_pass(server, make_run):
    model = MLP()
    run = make_run()
    babysit.watch(model, torch.optim.SGD(model.parameters(), lr=0.01))
    assert "train" in model.__dict__
    model.eval()
    with torch.no_grad():
        model(torch.randn(50, 64))  # inference at the end, no train() after it
    babysit.unwatch(model)
    assert "train" not in model.__dict__
    assert model.train is not None and type(model).train is MLP.train
    assert len(model._forward_pre_hooks) == 0
    model.train()
    assert model.training
    run.finish()
    assert [e["data"]["n"] for e in stats_events(server, run, "val")] == [50]


def test_a_copied_or_pickled_watched_model_has_a_plain_train(server, make_run):
    model = MLP()
    run = make_run()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    babysit.watch(model, opt, every=10)
    model(torch.randn(8, 64)).sum().backward()
    opt.step()  # the next iteration does not measure: no watch() hook is on the model
    for clone in (copy.deepcopy(model), torch.load(_saved(model))):
        clone.eval()  # switches the copy, not the watched model
        assert not clone.training and model.training
        clone.train()
        clone(torch.randn(4, 64))
    model.eval()
    with torch.no_grad():
        model(torch.randn(40, 64))
    model.train()
    run.finish()
    assert [e["data"]["n"] for e in stats_events(server, run, "val")] == [40]


def _saved(model):
    buf = io.BytesIO()
    torch.save(model, buf, pickle_module=pickle)
    buf.seek(0)
    return buf


class TokenModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.fc = nn.Linear(8, 3)

    def forward(self, ids):
        return self.fc(self.emb(ids).mean(1))


class NoTensor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.x = torch.randn(16, 4)

    def forward(self):
        return self.fc(self.x)


class DictIn(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, batch):
        return self.fc(batch["x"])


@pytest.mark.parametrize("make_model, make_input", [
    (TokenModel, lambda: (torch.randint(0, 20, (16, 5)),)),  # token ids
    (NoTensor, lambda: ()),  # a forward called with no tensor
    (DictIn, lambda: ({"x": torch.randn(16, 4)},)),  # a dict of tensors
    (lambda: nn.Linear(4, 2), lambda: (torch.randn(4),)),  # one unbatched example
    (lambda: nn.Linear(4, 2), lambda: (torch.randn(0, 4),)),  # an empty batch
])
def test_inputs_it_cannot_describe_send_nothing_and_never_raise(server, make_run, recwarn, make_model, make_input):
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    run = make_run()
    babysit.watch(model, opt, every=1)
    for _ in range(2):
        model.train()
        out = model(*make_input())
        out.sum().backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            model(*make_input())
    model.train()
    run.finish()
    assert server.events(run.id, "input_stats") == []
    assert not [w for w in recwarn if "babysit" in str(w.message) or "watch()" in str(w.message)]


def test_a_validation_batch_of_another_feature_count_is_not_compared(server, make_run):
    model = nn.Sequential(nn.Flatten(), nn.LazyLinear(3)) if hasattr(nn, "LazyLinear") else None
    if model is None:
        pytest.skip("needs LazyLinear")
    run = make_run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model(torch.randn(8, 3, 4, 4))
        babysit.watch(model, torch.optim.SGD(model.parameters(), lr=0.01))
    model(torch.randn(8, 3, 4, 4)).sum().backward()
    model.eval()
    with torch.no_grad():
        model(torch.randn(40, 48, 1, 1))  # 48 "channels": not what the training batches had
    model.train()
    run.finish()
    assert [len(e["data"]["mean"]) for e in stats_events(server, run)] == [3]
    assert stats_events(server, run, "val") == []


def test_a_failing_statistic_never_reaches_the_loop(server, make_run, monkeypatch):
    from babysit import checks

    def boom(t):
        raise RuntimeError("no moments today")

    monkeypatch.setattr(checks, "tensor_moments", boom)
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model, opt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        epochs(model, opt, xtr, ytr, xva, n_epochs=3)
    run.finish()
    assert server.events(run.id, "input_stats") == []
    assert len([w for w in caught if "no moments today" in str(w.message)]) <= 2  # warned once per place


def test_evaluation_forwards_between_measured_iterations_run_no_training_hook(server, make_run):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model, opt, every=10)
    epochs(model, opt, xtr, ytr, xva, n_epochs=1)  # 8 steps: step 1..7 do not measure
    assert len(model._forward_pre_hooks) == 0  # after the pass: neither the evaluation hook nor the root one
    run.finish()


def test_on_the_accelerator_path_the_loop_reads_no_input_statistic_back(server, make_run, monkeypatch):
    import threading

    import babysit._reduce as R

    monkeypatch.setattr(R, "CPU_READ_EACH", False)  # the accelerator's way, taken on the CPU
    main = threading.current_thread()
    readers = []
    real = torch.Tensor.tolist

    def spy(self, *a, **k):
        readers.append(threading.current_thread() is main)
        return real(self, *a, **k)

    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model, opt, every=1000, hist_every=0)  # layer statistics at iteration 0 only
    monkeypatch.setattr(torch.Tensor, "tolist", spy)
    epochs(model, opt, xtr, ytr, xva, n_epochs=2, log=False)
    monkeypatch.setattr(torch.Tensor, "tolist", real)
    run.finish()
    # no training event after the first pass: the next measured iteration (1000) never came
    assert len(stats_events(server, run)) == 1 and len(stats_events(server, run, "val")) == 2
    assert readers and not any(readers)


@pytest.mark.skipif(not hasattr(torch, "compile"), reason="torch.compile came with torch 2")
@pytest.mark.parametrize("which", ["the compiled model", "the module it compiles"])
def test_a_compiled_model_sends_its_input_statistics(server, make_run, which):
    model = MLP()
    compiled = torch.compile(model, backend="eager")
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets(val_shift=20.0)
    run = make_run()
    babysit.watch(compiled if which == "the compiled model" else model, opt, every=2)
    epochs(compiled, opt, xtr, ytr, xva, n_epochs=2)
    babysit.unwatch()
    assert "train" not in model.__dict__ and "train" not in compiled.__dict__
    run.finish()
    assert len(stats_events(server, run)) == 2
    val = stats_events(server, run, "val")
    assert len(val) == 2 and all(abs(sum(e["data"]["mean"]) / 64 - 20.0) < 1.0 for e in val)


def test_gradcheck_during_an_evaluation_pass_copies_no_watch_hook(server, make_run):
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    run = make_run()
    babysit.watch(model, opt, every=10)
    model(torch.randn(8, 6)).sum().backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        model(torch.randn(40, 6))
    results = babysit.gradcheck(model, torch.randn(4, 6))  # deep-copies the model while the pass's hook is on
    assert results and all(err < 1e-4 for err in results.values())
    model.train()
    run.finish()
    assert [e["data"]["n"] for e in stats_events(server, run, "val")] == [40]


def _eval_without_eval_mode(model, x):
    with torch.no_grad():
        model(x)


def _eval_in_eval_mode(model, x):
    model.eval()
    with torch.no_grad():
        model(x)
    model.train()


# A new user's loop evaluated under torch.no_grad() without model.eval(): its validation inputs went
# undescribed and nothing said so. It is told once; a loop that calls model.eval() hears nothing.
@pytest.mark.parametrize("evaluate, input_stats, told", [
    (_eval_without_eval_mode, True, 1),
    (_eval_in_eval_mode, True, 0),
    (_eval_without_eval_mode, False, 0),  # input statistics off: nothing of them to tell
])
def test_an_evaluation_without_model_eval_is_told_once(server, make_run, capsys, evaluate, input_stats, told):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model, opt, every=1, input_stats=input_stats)
    for _ in range(3):
        for b in range(0, 96, 32):
            F.cross_entropy(model(xtr[b:b + 32]), ytr[b:b + 32]).backward()
            opt.step()
            opt.zero_grad()
        evaluate(model, xva[:64])
    run.finish()
    err = capsys.readouterr().err
    assert err.count("without model.eval()") == told
    assert len(stats_events(server, run, "val")) == (3 if evaluate is _eval_in_eval_mode and input_stats else 0)


@pytest.mark.parametrize("message", [
    "line one\n" + "detail " * 1000,  # torch's dispatcher errors list every backend: kilobytes
    "x" * 5000,
])
def test_a_skipped_statistic_is_told_in_one_short_line(server, make_run, capsys, monkeypatch, message):
    from babysit import checks

    def boom(t):
        raise NotImplementedError(message)

    monkeypatch.setattr(checks, "tensor_moments", boom)
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.watch(model, opt)
    epochs(model, opt, xtr, ytr, xva, n_epochs=1, log=False)
    run.finish()
    told = [line for line in capsys.readouterr().err.splitlines() if "skipped some statistics" in line]
    assert told and all(len(line) < 300 and "NotImplementedError" in line for line in told)


def test_no_model_eval_hint_when_the_validation_inputs_were_logged_by_hand(server, make_run, capsys):
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xtr, ytr, xva = sets()
    run = make_run()
    babysit.log_input_stats(xva, split="val")  # the README's example: described by hand, evaluated in training mode
    babysit.watch(model, opt, every=1)
    for b in range(0, 96, 32):
        F.cross_entropy(model(xtr[b:b + 32]), ytr[b:b + 32]).backward()
        opt.step()
        _eval_without_eval_mode(model, xva[:64])
    run.finish()
    assert "without model.eval()" not in capsys.readouterr().err

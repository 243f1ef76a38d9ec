"""gradcheck, input statistics and images."""

import base64
import math
import struct
import zlib

import pytest

import babysit
from babysit.checks import input_stats, label_stats, output_stats
from babysit.images import encode_png, to_pixels


def decode_png(png):
    """A minimal PNG reader for 8-bit images with filter type 0: (width, height, colour type, pixel bytes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        tag, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + data) & 0xFFFFFFFF, "bad CRC in %r" % tag
        chunks.append((tag, data))
        pos += 12 + length
    assert [t for t, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    w, h, depth, ctype, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8
    raw = zlib.decompress(b"".join(d for t, d in chunks if t == b"IDAT"))
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[ctype]
    stride = w * channels
    assert len(raw) == h * (stride + 1)
    rows = [raw[y * (stride + 1) : (y + 1) * (stride + 1)] for y in range(h)]
    assert all(r[0] == 0 for r in rows)
    return w, h, ctype, b"".join(r[1:] for r in rows)


# ---------------------------------------------------------------------------------------- PNG


def test_png_round_trips_grey_and_rgb():
    w, h, ctype, pixels = decode_png(encode_png(bytes(range(12)), 4, 3, 1))
    assert (w, h, ctype, pixels) == (4, 3, 0, bytes(range(12)))
    rgb = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    assert decode_png(encode_png(rgb, 2, 2, 3)) == (2, 2, 2, rgb)


def test_image_values_are_scaled_to_bytes():
    np = pytest.importorskip("numpy")
    assert to_pixels(np.array([[0.0, 0.5], [1.0, float("nan")]])) == (bytes([0, 128, 255, 0]), 2, 2, 1)
    assert to_pixels([[-1.0, 1.0]]) == (bytes([0, 255]), 2, 1, 1)  # outside [0, 1]: min..max
    chw = np.zeros((3, 2, 5), dtype=np.uint8)
    chw[0] = 255
    assert to_pixels(chw) == (bytes([255, 0, 0] * 10), 5, 2, 3)  # (C, H, W) becomes (H, W, C)
    assert to_pixels(chw.tolist()) == to_pixels(chw)  # the same without numpy's help


def test_log_image_sends_a_decodable_png(server, make_run):
    np = pytest.importorskip("numpy")
    run = make_run()
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    run.log_image("samples/first", img, step=5)
    run.finish()
    (ev,) = server.events(run.id, "image")
    assert ev["step"] == 5 and ev["data"]["key"] == "samples/first"
    assert (ev["data"]["width"], ev["data"]["height"]) == (4, 3)
    assert decode_png(base64.b64decode(ev["data"]["png_base64"])) == (4, 3, 0, img.tobytes())


def test_filters_grid_tiles_first_layer_filters(server, make_run):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(64, 16)  # 16 filters of 8x8, like an MLP on digits
    grid = babysit.filters_grid(lin.weight)
    assert grid.shape == (4 * 8 + 3, 4 * 8 + 3)
    assert grid.min() >= 0.0 and grid.max() <= 1.0
    conv = torch.nn.Conv2d(3, 5, 3)
    assert babysit.filters_grid(conv.weight).shape == (2 * 3 + 1, 3 * 3 + 2, 3)
    run = make_run()
    run.log_image("filters/fc1", grid, step=0)
    run.finish()
    (ev,) = server.events(run.id, "image")
    w, h, ctype, _ = decode_png(base64.b64decode(ev["data"]["png_base64"]))
    assert (w, h, ctype) == (35, 35, 0)


# ---------------------------------------------------------------------------------------- input stats


def test_input_stats_per_feature_for_lists_arrays_and_tensors():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    rows = [[0.0, 10.0, 1.0], [2.0, 10.0, 3.0], [4.0, 10.0, 5.0]]
    expected_mean, expected_std = [2.0, 10.0, 3.0], np.std(np.array(rows), axis=0).tolist()
    for x in (rows, np.array(rows), torch.tensor(rows)):
        s = input_stats(x)
        assert s["n"] == 3
        assert s["mean"] == pytest.approx(expected_mean) and s["std"] == pytest.approx(expected_std)
    images = torch.zeros(4, 3, 2, 2)
    images[:, 1] = 5.0
    s = input_stats(images)  # (N, C, H, W): per channel
    assert s["mean"] == [0.0, 5.0, 0.0] and s["std"] == [0.0, 0.0, 0.0] and s["n"] == 4


def test_log_input_stats_sends_the_event(server, make_run):
    np = pytest.importorskip("numpy")
    run = make_run()
    x = np.array([[0.0, 16.0], [16.0, 16.0]])
    assert babysit.log_input_stats(x) == {"mean": [8.0, 16.0], "std": [8.0, 0.0], "n": 2}
    run.finish()
    (ev,) = server.events(run.id, "input_stats")
    assert ev["data"] == {"mean": [8.0, 16.0], "std": [8.0, 0.0], "n": 2} and ev["step"] == 0


@pytest.mark.parametrize("split", ["val", "train", "validation"])
def test_log_input_stats_of_a_split_carries_it(server, make_run, split):
    run = make_run()
    assert babysit.log_input_stats([[1.0], [3.0]], split=split)["split"] == split
    run.finish()
    (ev,) = server.events(run.id, "input_stats")
    assert ev["data"] == {"mean": [2.0], "std": [1.0], "n": 2, "split": split}


@pytest.mark.parametrize("split, why", [
    ("", "must not be empty"),
    ("v" * 65, "at most 64"),
    ("va\nl", "control characters"),
    (7, "must be strings"),
])
def test_log_input_stats_with_a_bad_split_warns_and_sends_nothing(server, make_run, split, why):
    run = make_run()
    with pytest.warns(babysit.BabysitWarning, match=why):
        stats = babysit.log_input_stats([[1.0], [3.0]], split=split)
    assert stats["mean"] == [2.0]  # still returned to the caller
    run.finish()
    assert server.events(run.id, "input_stats") == []


def test_log_input_stats_over_the_feature_limit_is_not_sent(server, make_run, monkeypatch):
    from babysit import _contract
    monkeypatch.setitem(_contract.LIMITS, "statsFeaturesMax", 3)
    run = make_run()
    with pytest.warns(babysit.BabysitWarning, match="statsFeaturesMax"):
        babysit.log_input_stats([[1.0, 2.0, 3.0, 4.0]])
    babysit.log_input_stats([[1.0, 2.0, 3.0]])
    run.finish()
    (ev,) = server.events(run.id, "input_stats")
    assert len(ev["data"]["mean"]) == 3


def test_output_stats_for_lists_arrays_and_tensors():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    pred, y = [[0.0], [2.0], [4.0]], [[-3.0], [1.0], [5.0]]
    for p, t in ((pred, y), (np.array(pred), np.array(y)), (torch.tensor(pred), torch.tensor(y))):
        s = output_stats(p, t)
        assert (s["pred_min"], s["pred_max"], s["target_min"], s["target_max"], s["n"]) == (0.0, 4.0, -3.0, 5.0, 3)
        assert s["pred_mean"] == pytest.approx(2.0) and s["target_std"] == pytest.approx(np.std([-3.0, 1.0, 5.0]))
    s = output_stats(torch.tensor([float("nan"), 1.0]), torch.tensor([0.0, 1.0]))
    assert math.isnan(s["pred_min"]) and s["target_max"] == 1.0


def test_log_output_stats_sends_the_event_and_never_raises(server, make_run):
    torch = pytest.importorskip("torch")
    run = make_run()
    pred = torch.relu(torch.tensor([[-1.0], [2.0]], requires_grad=True))  # a graph: detached, not an error
    assert babysit.log_output_stats(pred, torch.tensor([[-2.0], [2.0]]), split="val")["pred_min"] == 0.0
    with pytest.warns(babysit.BabysitWarning, match="could not read"):
        assert babysit.log_output_stats(object(), [1.0]) is None
    assert babysit.log_output_stats(float("nan"), 1.0)["n"] == 1  # a diverged model's NaN is data
    run.finish()
    evs = server.events(run.id, "output_stats")
    assert [e["data"]["split"] if "split" in e["data"] else None for e in evs] == ["val", None]
    assert evs[0]["data"]["target_min"] == -2.0 and evs[0]["data"]["pred_max"] == 2.0
    assert evs[1]["data"]["pred_min"] == "NaN"  # non-finite numbers travel as strings


# ---------------------------------------------------------------------------------------- label stats


def _label_inputs():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    return [
        ("list of ints", [0, 0, 0, 1, 2, 0], None, [4, 1, 1]),
        ("numpy ints", np.array([2, 2, 0]), None, [1, 0, 2]),
        ("numpy float class indices", np.array([1.0, 1.0, 0.0]), None, [1, 2]),
        ("numpy bools (binary targets)", np.array([True, False, True]), None, [1, 2]),
        ("torch long", torch.tensor([3, 3, 3, 1]), None, [0, 1, 0, 3]),
        ("torch one-hot rows", torch.eye(3)[[0, 0, 2]], None, [2, 0, 1]),
        ("torch probabilities", torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), None, [1, 2]),
        ("torch (N, 1) binary targets", torch.tensor([[1.0], [0.0], [1.0]]), None, [1, 2]),
        ("classes absent from y, num_classes given", [1, 1], 4, [0, 2, 0, 0]),
        ("one class only: still two entries", [0, 0, 0], None, [3, 0]),
        ("list of one-hot lists", [[0, 1], [1, 0], [0, 1]], None, [1, 2]),
    ]


def test_label_stats_counts_each_class_for_every_input_kind():
    for name, y, num_classes, counts in _label_inputs():
        got = label_stats(y, num_classes=num_classes)
        assert got == {"counts": counts, "n": sum(counts)}, name


@pytest.mark.parametrize("y, reason", [
    ([], "at least one label"),
    ([0.5, 1.0], "whole numbers"),
    ([-1, 2], ">= 0"),
    (["cat", "dog"], "class indices"),
    ([0, 100_000], "at most 100000 classes"),
])
def test_label_stats_refuses_what_is_not_class_indices(y, reason):
    with pytest.raises(ValueError, match=reason):
        label_stats(y)


def test_log_label_stats_sends_the_counts_and_split(server, make_run):
    np = pytest.importorskip("numpy")
    run = make_run()
    y = np.array([0] * 85 + [1] * 10 + [2] * 5)
    assert babysit.log_label_stats(y) == {"counts": [85, 10, 5], "n": 100, "split": "train"}
    assert babysit.log_label_stats(y[:10], split="val", num_classes=3) == {"counts": [10, 0, 0], "n": 10, "split": "val"}
    run.finish()
    evs = server.events(run.id, "label_stats")
    assert [e["data"] for e in evs] == [
        {"counts": [85, 10, 5], "n": 100, "split": "train"},
        {"counts": [10, 0, 0], "n": 10, "split": "val"},
    ]
    assert evs[0]["step"] == 0


@pytest.mark.parametrize("y, kw, warning", [
    (["a", "b"], {}, "could not read its labels"),
    ([0, 10**9], {}, "at most 100000 classes"),
    ([0, 1], {"split": ""}, "split must be a name"),
    ([0, 1], {"split": "x" * 65}, "split must be a name"),
])
def test_log_label_stats_never_raises_into_the_loop(server, make_run, y, kw, warning):
    run = make_run()
    with pytest.warns(babysit.BabysitWarning, match=warning):
        assert babysit.log_label_stats(y, **kw) is None
    run.finish()
    assert server.events(run.id, "label_stats") == []


# ---------------------------------------------------------------------------------------- gradcheck


def _wrong_square():
    torch = pytest.importorskip("torch")

    class WrongSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 * x

    return WrongSquare


def test_gradcheck_is_small_for_a_correct_model_and_logs_events(server, make_run):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Dropout(0.3), torch.nn.Linear(5, 3))
    x, y = torch.randn(8, 6), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    before = [p.detach().clone() for p in model.parameters()]
    run = make_run()
    babysit.watch(model, every=1)
    errors = babysit.gradcheck(model, x, loss_fn=lambda out: torch.nn.functional.cross_entropy(out, y))
    assert set(errors) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert max(errors.values()) < 1e-6
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "gradcheck changed the model"
    assert model[0].weight.dtype == torch.float32
    run.finish()
    assert server.keys(run.id) == set(), "gradcheck's forwards on its copy were watched"
    evs = server.events(run.id, "gradcheck")
    assert {e["data"]["param"] for e in evs} == set(errors)
    assert all(e["data"]["rel_error"] == errors[e["data"]["param"]] for e in evs)


def test_gradcheck_is_large_for_a_wrong_backward():
    torch = pytest.importorskip("torch")
    wrong = _wrong_square()
    errors = babysit.gradcheck(lambda a, b: wrong.apply(a) * b, torch.randn(5), torch.randn(5))
    assert errors["input0"] > 0.1  # the wrong custom backward
    assert errors["input1"] < 1e-6  # the multiplication, right

    class Layer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(4))
            self.v = torch.nn.Parameter(torch.randn(4))

        def forward(self, x):
            return (wrong.apply(self.w) * x).sum() + (self.v * x).sum()

    errors = babysit.gradcheck(Layer(), torch.randn(4))
    assert errors["w"] > 0.1 and errors["v"] < 1e-6


def test_gradcheck_samples_entries_of_big_parameters():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(200, 100)
    calls = []
    model.register_forward_pre_hook(lambda module, inputs: calls.append(1))
    errors = babysit.gradcheck(model, torch.randn(3, 200), max_entries=5)
    assert max(errors.values()) < 1e-6
    assert len(calls) == 1 + 2 * (5 + 5)

"""A new user's script ported to `import babysit.wandb as wandb`, against a real server.

A healthy 10-class digits MLP logged once an epoch (train/loss and val/acc, no label statistics)
held val/acc at ~0.865 for 3 of its 5 epochs and was told it predicts the majority class. Its
curves, replayed through the SDK: a short plateau without the labels' shares raises nothing; the
same curves with labels logged that imbalanced do raise it, and the terminal names the step the
alert was raised at (the last one), not the step its evidence starts at.
"""

import json
import os
import sys
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from real_server import RealServer  # noqa: E402

LOSS = [1.2, 0.55, 0.45, 0.40, 0.365]
ACC = [0.70, 0.8628, 0.8695, 0.865, 0.865]


@pytest.fixture(scope="module")
def url():
    server = RealServer(env={"BABYSIT_EVAL_INTERVAL_MS": "200"}).start()
    yield server.url
    server.close()


def _alerts(url, run_id):
    with urllib.request.urlopen("%s/api/v1/runs/%s/alerts" % (url, run_id)) as r:
        return {a["code"]: a for a in json.loads(r.read())["alerts"] if a["status"] == "active"}


@pytest.mark.parametrize("labels, raised", [
    (None, False),  # the false alarm: no label statistics, 3 of 5 evaluations at one accuracy
    ([0] * 311 + [1] * 40 + list(range(2, 10)) + [9], True),  # the labels say 86.4 % is one class
    (list(range(10)) * 36, False),  # borderline: balanced labels logged, accuracy far above 0.1
])
def test_a_short_accuracy_plateau_is_no_majority_class_without_the_labels(url, monkeypatch, capfd, labels, raised):
    monkeypatch.setenv("BABYSIT_URL", url)
    import babysit
    import babysit.wandb as wandb

    run = wandb.init(project="wandb-port", config={"lr": 1e-3, "epochs": 5, "batch_size": 64})
    if labels is not None:
        babysit.log_label_stats(labels, split="val", num_classes=10)
    for loss, acc in zip(LOSS, ACC):
        wandb.log({"train/loss": loss, "val/acc": acc})
    run_id = run.id
    wandb.finish()
    alerts = _alerts(url, run_id)
    assert ("majority_class" in alerts) is raised, list(alerts)
    lines = [x for x in capfd.readouterr().err.splitlines() if "majority_class" in x and x.startswith("babysit [")]
    if raised:
        assert alerts["majority_class"]["step"] < 4
        assert lines and " majority_class at step 4 (evidence from step %d):" % alerts["majority_class"]["step"] in lines[0]
    else:
        assert lines == []

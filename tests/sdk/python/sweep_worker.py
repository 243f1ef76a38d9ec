"""One worker of a sweep, as a separate process: joins the sweep, trains the trials the server hands
it (a fake training: val/acc peaks at lr = 1e-2), prints one JSON line {"indices": [...], "runs": [...]}.

    python sweep_worker.py URL PROJECT NAME BUDGET
"""

import json
import math
import sys

import babysit


def main():
    url, project, name, budget = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    space = {"lr": babysit.log_uniform(1e-4, 1.0), "hidden": babysit.choice([32, 64]), "epochs": 3}
    sweep = babysit.sweep(project=project, name=name, space=space, objective="val/acc", goal="max",
                          seed=1234, budget=budget, url=url, quiet=True)
    indices, runs = [], []
    for trial in sweep.trials():
        run = trial.init(flush_interval=0.02, quiet=True)
        lr = trial.config["lr"]
        for epoch in range(trial.config["epochs"]):
            acc = (epoch + 1) / 3.0 * math.exp(-((math.log10(lr) + 2.0) ** 2) / 2.0)
            run.log({"val/acc": acc, "train/loss": 1.0 - acc}, step=epoch)
        result = run.finish(timeout=20)
        assert result.delivered, result
        indices.append(trial.index)
        runs.append(run.id)
    print(json.dumps({"indices": indices, "runs": runs, "sweep": sweep.id, "offline": sweep.offline}))


if __name__ == "__main__":
    main()

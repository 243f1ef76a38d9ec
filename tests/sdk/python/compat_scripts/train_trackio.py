"""A script written for trackio: only the import changed. No trackio installed."""

import math

import babysit.trackio as trackio  # was: import trackio

run = trackio.init(project="compat-trackio", name="sine", config={"lr": 0.01})
for step in range(20):
    trackio.log({"train/loss": math.exp(-step / 5), "sin": math.sin(step)})
trackio.log({"val/loss": 0.1}, step=30)
print("RUN_ID", run.id, flush=True)
trackio.finish()

"""A wandb script that dies mid-training without calling finish(): the run must end crashed, with
what commit=False gathered for the last step delivered."""

import babysit.wandb as wandb  # was: import wandb

run = wandb.init(project="compat-wandb", name="crash")
for step in range(5):
    wandb.log({"loss": 1.0 / (step + 1)})
wandb.log({"val/loss": 0.5}, commit=False)  # gathered, never committed by a later log()
print("RUN_ID", run.id, flush=True)
raise RuntimeError("CUDA out of memory (simulated)")

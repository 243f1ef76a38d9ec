"""A training script written for wandb, as users write them: only the import changed. No wandb installed."""

import argparse

import torch
from torch import nn

import babysit.wandb as wandb  # was: import wandb


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--exit-code", type=int, default=0)
    parser.add_argument("--name", default="mlp")
    args = parser.parse_args(argv)

    wandb.config.seed = 0  # set before init: kept
    run = wandb.init(project="compat-wandb", name=args.name, config=args, tags=["baseline"], notes="from a wandb script")
    wandb.config.update({"batch_size": 32})
    wandb.config["hidden"] = 16
    torch.manual_seed(wandb.config.seed)
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, wandb.config.hidden), nn.ReLU(), nn.Linear(wandb.config["hidden"], 2))
    opt = torch.optim.SGD(model.parameters(), lr=wandb.config.lr)
    wandb.watch(model, log="all", log_freq=4)
    wandb.define_metric("val/acc", summary="max")
    table = wandb.Table(columns=["epoch", "acc"])  # not supported: one warning, nothing breaks
    for epoch in range(args.epochs):
        for i in range(0, 256, wandb.config.batch_size):
            loss = nn.functional.cross_entropy(model(x[i:i + 32]), y[i:i + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
            wandb.log({"train": {"loss": loss.item()}, "lr": opt.param_groups[0]["lr"]})  # one step per call
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean().item()
        table.add_data(epoch, acc)
        wandb.log({"val/acc": acc}, commit=False)  # joins the next step
        wandb.log({"epoch": epoch, "weights": wandb.Histogram(model[0].weight.detach().numpy())})
    wandb.alert(title="done", text="val/acc %.3f" % acc, level=wandb.AlertLevel.INFO)
    run.summary["final_acc"] = acc
    artifact = wandb.Artifact("model", type="model")
    artifact.add_file(__file__)
    run.log_artifact(artifact)
    print("RUN_ID", run.id, flush=True)
    wandb.finish(exit_code=args.exit_code)


if __name__ == "__main__":
    main()

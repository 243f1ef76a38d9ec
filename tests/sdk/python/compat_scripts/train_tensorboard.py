"""A training script written for torch.utils.tensorboard, as users write them: only the import changed."""

import sys

import numpy as np
import torch
from torch import nn

from babysit.tensorboard import SummaryWriter  # was: from torch.utils.tensorboard import SummaryWriter


def main(log_dir):
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    writer = SummaryWriter(log_dir)
    for epoch in range(3):
        for i in range(0, 256, 32):
            step = epoch * 8 + i // 32
            loss = nn.functional.cross_entropy(model(x[i:i + 32]), y[i:i + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
            writer.add_scalar("train/loss", loss.item(), step)
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean()
        writer.add_scalars("loss", {"train": loss.item(), "val": loss.item() * 1.1}, epoch)
        writer.add_scalar("val/acc", acc, epoch)  # a 0-d tensor, as people pass them
        writer.add_histogram("fc1/weight", model[0].weight, epoch)
        writer.add_scalar("lr", opt.param_groups[0]["lr"])  # no global_step
    writer.add_image("input", x[:3].abs().clamp(0, 1).reshape(1, 3, 8), 0)  # CHW floats in [0, 1]
    writer.add_image("hwc", np.full((4, 6, 3), 200, np.uint8), 0, dataformats="HWC")
    writer.add_text("notes", "trained for 3 epochs", 2)
    writer.flush()
    writer.add_hparams({"lr": 0.1, "batch_size": 32, "optimizer": "sgd"}, {"hparam/acc": float(acc)})
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1])

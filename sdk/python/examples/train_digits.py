"""Train a small MLP on scikit-learn's digits (bundled with sklearn: no download) under babysit's eye.

    python sdk/python/examples/train_digits.py                 # a healthy run
    python sdk/python/examples/train_digits.py --activation tanh --init-std 1.0 --raw-inputs
                                                               # a sick one: watch it saturate

The server is $BABYSIT_URL, else http://127.0.0.1:3000 (or --url). Needs torch and scikit-learn.
"""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import babysit


class MLP(nn.Module):
    """64-128-64-10 with activation *modules*: watch() hooks modules, not F.relu calls."""

    def __init__(self, activation: str = "relu"):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation]
        self.fc1 = nn.Linear(64, 128)
        self.act1 = act()
        self.fc2 = nn.Linear(128, 64)
        self.act2 = act()
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="babysit server (default $BABYSIT_URL or http://127.0.0.1:3000)")
    p.add_argument("--project", default="digits")
    p.add_argument("--name", default=None)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default="relu")
    p.add_argument("--init-std", type=float, default=None, help="N(0, std^2) hidden weights (default: PyTorch's init)")
    p.add_argument("--raw-inputs", action="store_true", help="feed raw 0..16 pixels instead of standardised ones")
    p.add_argument("--every", type=int, default=5, help="layer statistics every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    digits = load_digits()  # 1797 8x8 images, 10 classes
    X, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=1000, test_size=400, random_state=args.seed, stratify=y)
    if not args.raw_inputs:
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std[std == 0] = 1.0  # constant border pixels
        X_train, X_val = (X_train - mean) / std, (X_val - mean) / std
    dev = torch.device(args.device)
    X_train, y_train = torch.from_numpy(X_train).to(dev), torch.from_numpy(y_train).to(dev)
    X_val, y_val = torch.from_numpy(X_val).to(dev), torch.from_numpy(y_val).to(dev)

    model = MLP(args.activation).to(dev)
    if args.init_std is not None:
        with torch.no_grad():
            for layer in (model.fc1, model.fc2):
                layer.weight.normal_(0.0, args.init_std)
                layer.bias.zero_()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    # num_classes lets babysit check the first loss against ln 10 (the checklist's "initial loss")
    run = babysit.init(project=args.project, name=args.name, url=args.url, config=dict(vars(args), num_classes=10))
    babysit.log_input_stats(X_train)  # the inputs exactly as the net sees them
    babysit.log_input_stats(X_val, split="val")  # compared with the training inputs: another preprocessing shows
    babysit.gradcheck(model, X_train[:8], loss_fn=lambda out: F.cross_entropy(out, y_train[:8]))
    babysit.watch(model, opt, every=args.every)

    iters_per_epoch = (len(X_train) + args.batch_size - 1) // args.batch_size
    step = 0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(X_train), device=dev)
        for i in range(0, len(X_train), args.batch_size):
            idx = perm[i : i + args.batch_size]
            loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            # Pass the tensor itself: babysit reads it back in the background (no .item() sync here).
            babysit.log({"train/loss": loss.detach()}, step=step, epoch=step / iters_per_epoch)
            step += 1
        model.eval()
        with torch.no_grad():
            train_acc = (model(X_train).argmax(1) == y_train).float().mean()
            val_out = model(X_val)
            val_loss = F.cross_entropy(val_out, y_val)
            val_acc = (val_out.argmax(1) == y_val).float().mean()
        babysit.log({"train/acc": train_acc, "val/acc": val_acc, "val/loss": val_loss}, step=step - 1)
        print("epoch %2d  loss %.4f  train acc %.3f  val acc %.3f" % (epoch, loss.item(), train_acc.item(), val_acc.item()))

    babysit.log_image("filters/fc1", babysit.filters_grid(model.fc1.weight), step=step - 1)
    babysit.finish()
    print("run:", run.url)
    return run


if __name__ == "__main__":
    main()

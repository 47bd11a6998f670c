"""Train the MovieLens 100k recommender: Hartford et al.'s factorized exchangeable autoencoder.

    python train_movielens.py      # $DATA_DIR/movielens/ml-100k -> $MODEL_DIR/movielens

Full batch on u1.base: Adam (lr 0.01, annealed to 0 on a cosine), gradient-norm clip 1.0,
cross-entropy over the 5 rating values. Each epoch a random share (--holdout) of the
training ratings is hidden from the encoder and predicted from the rest, as test ratings
are at inference. Validation RMSE is of the expected rating on u1.test. Writes `deepset.pt`
(the last epoch) to the checkpoint folder after every evaluation.
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

from spotlight.checkpoints import save_checkpoint
from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.models import FactorizedAutoencoder, expected_rating
from spotlight.movielens import load_movielens, rating_tensors
from spotlight.paths import data_dir, model_dir

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--checkpoint_dir", type=Path, default=model_dir() / "movielens",
                    help="default: $MODEL_DIR/movielens")
parser.add_argument("--epochs", type=int, default=800)
parser.add_argument("--learning_rate", type=float, default=0.01)
parser.add_argument("--clip", type=float, default=1.0)
parser.add_argument("--lr_schedule", choices=("cosine", "constant"), default="cosine",
                    help="cosine: anneal the learning rate to 0 over the epochs")
parser.add_argument("--holdout", type=float, default=0.2,
                    help="share of training ratings hidden from the encoder each epoch")
parser.add_argument("--eval_every", type=int, default=10)
parser.add_argument("--device", default="auto")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

try:
    device = resolve_device(args.device)
    data = load_movielens(args.data_dir / "movielens" / "ml-100k")
except SpotlightError as error:
    sys.exit(f"error: {error}")
torch.manual_seed(args.seed)
train_ratings, train_index = rating_tensors(data, data.train, device)
test_ratings, test_index = rating_tensors(data, data.test, device)
model = FactorizedAutoencoder().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs)
            if args.lr_schedule == "cosine" else None)
print(f"MovieLens 100k: {len(train_ratings):,} training ratings, {len(test_ratings):,} "
      f"validation ratings; training on {device}")


def evaluate() -> tuple[float, float]:
    """Validation cross-entropy and RMSE: encode all training ratings, decode u1.test."""
    model.eval()
    with torch.no_grad():
        logits = model(train_ratings, train_index, test_index)
    rmse = (expected_rating(logits) - test_ratings.float()).pow(2).mean().sqrt()
    return F.cross_entropy(logits, test_ratings - 1).item(), rmse.item()


start = time.time()
bar = tqdm(range(1, args.epochs + 1), desc="training", unit="epoch")
for epoch in bar:
    model.train()
    hidden = torch.rand(len(train_ratings), device=device) < args.holdout
    shown = train_index.subset(~hidden) if args.holdout > 0 else train_index
    queried = train_index.subset(hidden) if args.holdout > 0 else train_index
    targets = train_ratings[hidden] if args.holdout > 0 else train_ratings
    logits = model(train_ratings[~hidden], shown, queried)
    loss = F.cross_entropy(logits, targets - 1)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
    optimizer.step()
    if schedule is not None:
        schedule.step()
    if epoch % args.eval_every == 0 or epoch == args.epochs:
        val_loss, val_rmse = evaluate()
        bar.set_postfix(train_loss=f"{loss.item():.4f}", val_loss=f"{val_loss:.4f}",
                        val_rmse=f"{val_rmse:.4f}")
        save_checkpoint(args.checkpoint_dir / "deepset.pt", {
            "model": model.state_dict(), "epoch": epoch, "val_rmse": val_rmse,
            "val_loss": val_loss, "args": {k: str(v) for k, v in vars(args).items()},
        })
bar.close()
print(f"epoch {args.epochs}: validation RMSE {val_rmse:.4f}, cross-entropy {val_loss:.4f}, "
      f"{(time.time() - start) / 60:.1f} min; saved {args.checkpoint_dir / 'deepset.pt'}")

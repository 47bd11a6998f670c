"""Inference of the MovieLens recommender on u1.test: embeddings, losses, outputs, metadata.

    python inference_movielens.py    # -> inference_results/movielens_val_deepset.npz

Uses $MODEL_DIR/movielens/deepset.pt if you trained one, else the checkpoint shipped in
pretrained/movielens/. Per test rating it saves the input of the decoder's last linear map
(600 floats), the cross-entropy over the 5 rating values, the predicted distribution, the
true rating, and who rated what (user age, gender, occupation; movie title and genres).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from spotlight.checkpoints import load_checkpoint
from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.models import FactorizedAutoencoder, expected_rating
from spotlight.movielens import GENRES, age_band, load_movielens, rating_tensors
from spotlight.paths import REPO_ROOT, data_dir, model_dir
from spotlight.results import InferenceResults

SHIPPED = REPO_ROOT / "pretrained" / "movielens" / "deepset.pt"

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--checkpoint", type=Path, default=None,
                    help="default: $MODEL_DIR/movielens/deepset.pt, else the shipped one")
parser.add_argument("--output", type=Path,
                    default=Path("inference_results") / "movielens_val_deepset.npz")
parser.add_argument("--device", default="auto")
args = parser.parse_args()

checkpoint_path = args.checkpoint
if checkpoint_path is None:
    trained = model_dir() / "movielens" / "deepset.pt"
    checkpoint_path = trained if trained.is_file() else SHIPPED
try:
    device = resolve_device(args.device)
    data = load_movielens(args.data_dir / "movielens" / "ml-100k")
    checkpoint = load_checkpoint(checkpoint_path, hint="train one with train_movielens.py")
    model = FactorizedAutoencoder().to(device)
    model.load_state_dict(checkpoint["model"])
except (SpotlightError, RuntimeError) as error:
    sys.exit(f"error: {error}")
print(f"model {checkpoint_path} (epoch {checkpoint.get('epoch')}, "
      f"validation RMSE {checkpoint.get('val_rmse', float('nan')):.4f}) on {device}")

train_ratings, train_index = rating_tensors(data, data.train, device)
test_ratings, test_index = rating_tensors(data, data.test, device)
model.eval()
with torch.no_grad():
    logits, embeddings = model(train_ratings, train_index, test_index, return_embedding=True)
    losses = F.cross_entropy(logits, test_ratings - 1, reduction="none")
    predicted = expected_rating(logits)

users = data.users.loc[data.test[:, 0]]
items = data.items.loc[data.test[:, 1]]
results = InferenceResults(
    embeddings=embeddings.cpu().numpy(),
    losses=losses.cpu().numpy(),
    outputs=logits.softmax(dim=1).cpu().numpy(),
    labels=data.test[:, 2],
    metadata={
        "user_id": data.test[:, 0],
        "item_id": data.test[:, 1],
        "rating": data.test[:, 2],
        "predicted_rating": predicted.cpu().numpy(),
        "age": users["age"].to_numpy(),
        "age_band": np.array([age_band(age) for age in users["age"]]),
        "gender": users["gender"].to_numpy(dtype=str),
        "occupation": users["occupation"].to_numpy(dtype=str),
        "title": items["title"].to_numpy(dtype=str),
        "genres": items[list(GENRES)].to_numpy(dtype=bool),
    },
    info={"domain": "movielens", "split": "u1.test", "model": str(checkpoint_path),
          "multi_hot": {"genres": list(GENRES)}},
)
rmse = float(np.sqrt(np.mean((results.metadata["predicted_rating"] - data.test[:, 2]) ** 2)))
path = results.save(args.output)
print(f"{path}: {len(results):,} ratings, embeddings {results.embeddings.shape[1]}-d, "
      f"mean loss {results.losses.mean():.4f}, RMSE {rmse:.4f}")

"""Inference of DistilBERT fine-tuned on SST-2 over Amazon polarity reviews.

    python inference_amazon.py     # -> inference_results/amazon_train_sst.npz

Reads the `DatasetDict` saved at $DATA_DIR/amazon and the model folder $MODEL_DIR/amazon
(`save_pretrained` or hub cache), offline. Runs the first --limit (20,000) reviews of the
split and saves per review the classifier head's input (768 floats), the cross-entropy,
the class probabilities and label, and the review's text, title, length and index.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.inference import run_inference, save_classifier_results
from spotlight.nlp import load_model_and_tokenizer, load_saved_split
from spotlight.paths import data_dir, model_dir

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--model_dir", type=Path, default=model_dir() / "amazon",
                    help="default: $MODEL_DIR/amazon")
parser.add_argument("--split", default="train")
parser.add_argument("--limit", type=int, default=20_000, help="the first N reviews")
parser.add_argument("--output", type=Path,
                    default=Path("inference_results") / "amazon_train_sst.npz")
parser.add_argument("--batch_size", type=int, default=64)
parser.add_argument("--device", default="auto")
args = parser.parse_args()

try:
    from transformers import AutoModelForSequenceClassification

    device = resolve_device(args.device)
    reviews = load_saved_split(args.data_dir / "amazon", args.split,
                               ("label", "title", "content"), "Amazon polarity")
    reviews = reviews.select(range(min(args.limit, len(reviews))))
    model, tokenizer = load_model_and_tokenizer(args.model_dir,
                                                AutoModelForSequenceClassification, "amazon")
except SpotlightError as error:
    sys.exit(f"error: {error}")
model.to(device)
texts, labels = list(reviews["content"]), np.asarray(reviews["label"])
max_length = min(tokenizer.model_max_length, model.config.max_position_embeddings)


def batches():
    for start in range(0, len(texts), args.batch_size):
        yield np.arange(start, min(start + args.batch_size, len(texts)))


def step(model, indices, device):
    inputs = tokenizer([texts[i] for i in indices], padding=True, truncation=True,
                       max_length=max_length, return_tensors="pt").to(device)
    logits = model(**inputs).logits
    targets = torch.as_tensor(labels[indices], device=device)
    return logits.softmax(dim=1), F.cross_entropy(logits, targets, reduction="none"), \
        targets, indices


found = run_inference(model, batches(), model.classifier, device, step=step,
                      desc="Amazon reviews", total=-(-len(texts) // args.batch_size))
save_classifier_results(
    found,
    metadata={"text": np.asarray(texts)[found["indices"]],
              "title": np.asarray(list(reviews["title"]))[found["indices"]],
              "length": np.asarray([len(text) for text in texts])[found["indices"]]},
    info={"domain": "amazon", "split": args.split, "model": str(args.model_dir),
          "classes": ["negative", "positive"]},
    output=args.output, noun="reviews")

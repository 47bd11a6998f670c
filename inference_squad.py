"""Inference of DistilBERT distilled on SQuAD over SQuAD's validation questions.

    python inference_squad.py     # -> inference_results/squad_val_bert_cls.npz

Reads the `DatasetDict` saved at $DATA_DIR/squad and the model folder $MODEL_DIR/squad,
offline. Keeps validation examples whose question + context tokenise to fewer than 384
tokens. Per example it saves the [CLS] token's input to `qa_outputs` (the embedding), the
model's loss (mean of start and end cross-entropy), the start/end logits as outputs, and
the title (topic), id, question, true and predicted answers as metadata.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.inference import run_inference
from spotlight.nlp import (
    SQUAD_MAX_TOKENS,
    best_spans,
    load_model_and_tokenizer,
    load_saved_split,
    squad_features,
)
from spotlight.paths import data_dir, model_dir
from spotlight.results import InferenceResults

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--model_dir", type=Path, default=model_dir() / "squad",
                    help="default: $MODEL_DIR/squad")
parser.add_argument("--split", default="validation")
parser.add_argument("--output", type=Path,
                    default=Path("inference_results") / "squad_val_bert_cls.npz")
parser.add_argument("--batch_size", type=int, default=32)
parser.add_argument("--device", default="auto")
args = parser.parse_args()

try:
    from transformers import AutoModelForQuestionAnswering

    device = resolve_device(args.device)
    squad = load_saved_split(args.data_dir / "squad", args.split,
                             ("id", "title", "context", "question", "answers"), "SQuAD")
    model, tokenizer = load_model_and_tokenizer(args.model_dir, AutoModelForQuestionAnswering,
                                                "squad")
except SpotlightError as error:
    sys.exit(f"error: {error}")
model.to(device)

encoded = tokenizer(list(squad["question"]), list(squad["context"]))
lengths = [len(ids) for ids in encoded["input_ids"]]
kept = np.flatnonzero(np.asarray(lengths) < SQUAD_MAX_TOKENS)
examples = squad.select(kept)
print(f"SQuAD {args.split}: {len(kept):,} of {len(squad):,} examples under "
      f"{SQUAD_MAX_TOKENS} tokens")
predicted_spans, true_spans = {}, {}


def batches():
    for start in range(0, len(examples), args.batch_size):
        yield np.arange(start, min(start + args.batch_size, len(examples)))


def step(model, indices, device):
    batch = examples.select(indices)
    features = squad_features(tokenizer, list(batch["question"]), list(batch["context"]),
                              list(batch["answers"]))
    output = model(**features["inputs"].to(device))
    starts = features["start_positions"].to(device)
    ends = features["end_positions"].to(device)
    losses = (F.cross_entropy(output.start_logits, starts, reduction="none")
              + F.cross_entropy(output.end_logits, ends, reduction="none")) / 2
    spans = best_spans(output.start_logits, output.end_logits,
                       features["context_mask"].to(device))
    ids = features["inputs"]["input_ids"]
    for row, index in enumerate(indices):
        predicted_spans[index] = tokenizer.decode(ids[row, spans[row, 0]: spans[row, 1] + 1])
        true_spans[index] = (int(starts[row]), int(ends[row]), int(spans[row, 0]),
                             int(spans[row, 1]))
    padding = SQUAD_MAX_TOKENS - output.start_logits.shape[1]
    logits = torch.stack((output.start_logits, output.end_logits), dim=1)
    logits = F.pad(logits, (0, padding), value=float("-inf"))
    return logits, losses, starts, indices


found = run_inference(model, batches(), model.qa_outputs, device, step=step,
                      embedding_of=lambda hidden: hidden[:, 0],  # the [CLS] token
                      desc="SQuAD questions", total=-(-len(examples) // args.batch_size))
order = found["indices"]
positions = np.asarray([true_spans[i] for i in order])
results = InferenceResults(
    embeddings=found["embeddings"], losses=found["losses"], outputs=found["outputs"],
    labels=positions[:, :2],
    metadata={
        "id": np.asarray(list(examples["id"]))[order],
        "title": np.asarray(list(examples["title"]))[order],
        "question": np.asarray(list(examples["question"]))[order],
        "context": np.asarray(list(examples["context"]))[order],
        "answer": np.asarray([answers["text"][0] if answers["text"] else ""
                              for answers in examples["answers"]])[order],
        "predicted_answer": np.asarray([predicted_spans[i] for i in order]),
        "true_span": positions[:, :2], "predicted_span": positions[:, 2:],
        "index": kept[order],
    },
    info={"domain": "squad", "split": args.split, "model": str(args.model_dir),
          "max_tokens": SQUAD_MAX_TOKENS},
)
path = results.save(args.output)
exact = float(np.mean(np.all(positions[:, :2] == positions[:, 2:], axis=1)))
print(f"{path}: {len(results):,} questions, mean loss {results.losses.mean():.4f}, "
      f"exact span match {exact:.2%}")

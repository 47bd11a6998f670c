"""One inference loop for every domain: a forward hook captures the input of the model's
final linear layer (the embedding the spotlight searches) while a batched, no-grad loop
collects outputs, per-example losses and labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

# step(model, batch, device) -> (outputs, losses, labels, indices) for one batch; outputs are
# what the results file stores per example (class probabilities for a classifier).
Step = Callable[[nn.Module, Any, torch.device], tuple[torch.Tensor, ...]]


@contextmanager
def capture_input(layer: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Collect the (first) input of ``layer`` on every forward call, detached."""
    captured: list[torch.Tensor] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        captured.append(inputs[0].detach())

    handle = layer.register_forward_pre_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()


def classification_step(model: nn.Module, batch: Any, device: torch.device):
    """For loaders yielding (inputs, labels, indices): probabilities and cross-entropy."""
    inputs, labels, indices = batch
    labels = labels.to(device)
    logits = model(inputs.to(device))
    return (logits.softmax(dim=1), F.cross_entropy(logits, labels, reduction="none"), labels,
            indices)


def run_inference(
    model: nn.Module,
    batches: Iterable[Any],
    layer: nn.Module,
    device: torch.device,
    step: Step = classification_step,
    embedding_of: Callable[[torch.Tensor], torch.Tensor] = lambda captured: captured,
    desc: str = "inference",
    total: int | None = None,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Run ``model`` (eval mode, no grad) over ``batches``; return numpy arrays
    'embeddings' (the input of ``layer``, through ``embedding_of``), 'outputs', 'losses',
    'labels' and 'indices' (each example's position in its dataset), in loader order."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {key: [] for key in
                                          ("embeddings", "outputs", "losses", "labels", "indices")}
    with torch.no_grad(), capture_input(layer) as captured:
        for batch in tqdm(batches, desc=desc, unit="batch", total=total, disable=not progress):
            outputs, losses, labels, indices = step(model, batch, device)
            if len(captured) != 1:
                raise RuntimeError(f"the hooked layer ran {len(captured)} times in one batch; "
                                   "expected once")
            embeddings = embedding_of(captured.pop())
            if len(embeddings) != len(losses):
                raise RuntimeError(f"embeddings for {len(embeddings)} examples but "
                                   f"{len(losses)} losses in one batch")
            for key, value in (("embeddings", embeddings), ("outputs", outputs),
                               ("losses", losses)):
                parts[key].append(value.float().cpu().numpy())
            parts["labels"].append(torch.as_tensor(labels).cpu().numpy())
            parts["indices"].append(torch.as_tensor(indices).cpu().numpy())
    return {key: np.concatenate(values) for key, values in parts.items()}


def save_classifier_results(found: dict[str, np.ndarray], metadata: dict[str, Any],
                            info: dict[str, Any], output, noun: str):
    """Save a classifier's inference (run_inference's arrays, each example's dataset
    position as metadata 'index', and ``metadata`` in the same order) and print one line."""
    from spotlight.results import InferenceResults

    results = InferenceResults(
        embeddings=found["embeddings"], losses=found["losses"], outputs=found["outputs"],
        labels=found["labels"], metadata={**metadata, "index": found["indices"]}, info=info)
    path = results.save(output)
    accuracy = float((results.outputs.argmax(axis=1) == results.labels).mean())
    print(f"{path}: {len(results):,} {noun}, mean loss {results.losses.mean():.4f}, "
          f"accuracy {accuracy:.2%}")
    return results

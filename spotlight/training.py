"""What the image training scripts share: one epoch of training, and a validation report
broken down by group (FairFace reports per race)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm


def train_one_epoch(model: nn.Module, batches: Iterable, optimizer: torch.optim.Optimizer,
                    device: torch.device, clip: float | None, desc: str,
                    show_progress: bool = True) -> float:
    """One pass of cross-entropy training over (inputs, labels, indices) batches; returns
    the mean training loss. Gradient norms are clipped to ``clip`` when given."""
    model.train()
    total, count = 0.0, 0
    bar = tqdm(batches, desc=desc, unit="batch", disable=not show_progress, leave=False)
    for inputs, labels, _ in bar:
        inputs, labels = inputs.to(device), labels.to(device)
        loss = F.cross_entropy(model(inputs), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
    return total / max(count, 1)


def group_report(losses: np.ndarray, correct: np.ndarray, groups: np.ndarray,
                 names: Sequence[str]) -> tuple[str, dict[str, dict[str, float]]]:
    """Mean loss and accuracy overall and per group, as a text table and a dict."""
    metrics = {"all": {"loss": float(losses.mean()), "accuracy": float(correct.mean()),
                       "count": len(losses)}}
    for index, name in enumerate(names):
        members = groups == index
        if members.any():
            metrics[name] = {"loss": float(losses[members].mean()),
                             "accuracy": float(correct[members].mean()),
                             "count": int(members.sum())}
    width = max(len(name) for name in metrics)
    lines = [f"  {'group':<{width}}  {'n':>6}  {'loss':>7}  {'accuracy':>8}"]
    lines += [f"  {name:<{width}}  {m['count']:>6}  {m['loss']:7.4f}  {m['accuracy']:8.2%}"
              for name, m in metrics.items()]
    return "\n".join(lines), metrics

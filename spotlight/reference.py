"""The published per-step math, written straightforwardly with autograd.

It builds the D x D precision matrix every step (exp(log_tau) * I for a spherical
spotlight), as the published code did, so a step costs O(N D^2). Kept as the yardstick the
fast optimiser is checked against (tests) and timed against (benchmarks/bench_spotlight.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from spotlight.optimizer import ResetOnPlateau, barrier_schedule


def reference_objective(
    mean: torch.Tensor,
    precision: torch.Tensor,
    x: torch.Tensor,
    losses: torch.Tensor,
    min_weight: float,
    barrier_x: float,
    *,
    kernel: str = "gaussian",
    barrier_scale: float = 1.0,
    flip_objective: bool = False,
    counts: torch.Tensor | None = None,
    entropy_terms: Sequence[tuple[float, torch.Tensor, int]] = (),
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(objective, weighted loss, mass) as autograd tensors, from the precision matrix."""
    diff = x - mean
    d = torch.sum((diff @ precision) * diff, dim=1)
    k = torch.exp(-0.5 * d) if kernel == "gaussian" else torch.clamp(1.0 - d, min=0.0)
    mass_k = k if counts is None else k * counts
    mass = mass_k.sum()
    weighted_loss = (mass_k * losses).sum() / mass
    objective = -weighted_loss if flip_objective else weighted_loss
    gap = mass - (min_weight + barrier_x)
    if gap < 0:
        objective = objective - barrier_scale * gap**2 / barrier_x**2
    for coeff, classes, n_classes in entropy_terms:
        one_hot = torch.nn.functional.one_hot(classes, n_classes).to(x.dtype)
        share = (mass_k / mass) @ one_hot
        entropy = -(share * torch.log2(share.clamp_min(1e-30))).sum()
        objective = objective - coeff * entropy
    return objective, weighted_loss, mass


def run_reference_spotlight(
    embeddings: np.ndarray,
    losses: np.ndarray,
    min_weight: float,
    *,
    num_steps: int,
    learning_rate: float = 1e-2,
    lr_patience: int = 10,
    lr_factor: float = 0.5,
    barrier_scale: float = 1.0,
    kernel: str = "gaussian",
    dtype: torch.dtype = torch.float32,
) -> dict[str, np.ndarray]:
    """A spherical spotlight the published way: mean at the origin, log_tau = log(1e-4),
    Adam through autograd on the D x D precision each step. Returns weights and history."""
    x = torch.as_tensor(embeddings, dtype=dtype)
    loss_t = torch.as_tensor(losses, dtype=dtype)
    n, dim = x.shape
    mean = torch.zeros(dim, dtype=dtype, requires_grad=True)
    log_tau = torch.tensor(np.log(1e-4), dtype=dtype, requires_grad=True)
    optimizer = torch.optim.Adam([mean, log_tau], lr=learning_rate)
    scheduler = ResetOnPlateau(optimizer, lr_factor, lr_patience)
    barrier = barrier_schedule(float(n), min_weight, None, num_steps)
    objectives = np.empty(num_steps)
    eye = torch.eye(dim, dtype=dtype)
    for step in range(num_steps):
        optimizer.zero_grad()
        objective, _, _ = reference_objective(
            mean, torch.exp(log_tau) * eye, x, loss_t, min_weight, float(barrier[step]),
            kernel=kernel, barrier_scale=barrier_scale,
        )
        (-objective).backward()
        optimizer.step()
        objectives[step] = objective.item()
        scheduler.step(-objectives[step])
    with torch.no_grad():
        d = torch.sum(((x - mean) @ (torch.exp(log_tau) * eye)) * (x - mean), dim=1)
        k = torch.exp(-0.5 * d) if kernel == "gaussian" else torch.clamp(1.0 - d, min=0.0)
    weights = (k / k.sum()).numpy()
    return {"weights": weights, "unnormalized_weights": k.numpy(), "objective": objectives}

"""Synthetic embeddings with planted regions of known loss, for tests and demonstrations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spotlight.results import top_examples


@dataclass
class PlantedData:
    """embeddings (N, D), losses (N,), cluster (N,) id per point; planted[j] is a boolean
    mask of the j-th planted region's points."""

    embeddings: np.ndarray
    losses: np.ndarray
    cluster: np.ndarray
    planted: list[np.ndarray]


def make_planted_clusters(
    n: int = 2000,
    dim: int = 16,
    n_background: int = 8,
    n_planted: int = 1,
    planted_fraction: float = 0.02,
    background_loss: float = 0.3,
    planted_loss: float = 2.0,
    spread: float = 3.0,
    cluster_std: float = 0.5,
    seed: int = 0,
) -> PlantedData:
    """Gaussian clusters in ``dim`` dimensions; ``n_planted`` of them (each holding
    ``planted_fraction`` of the points) have losses around ``planted_loss``, the rest around
    ``background_loss``. Losses are exponential with those means, so they overlap a little,
    like real cross-entropy."""
    rng = np.random.default_rng(seed)
    planted_size = max(1, int(round(planted_fraction * n)))
    background_total = n - n_planted * planted_size
    if background_total < n_background:
        raise ValueError("planted regions leave too few points for the background clusters")
    sizes = [planted_size] * n_planted + _split(background_total, n_background)
    centres = rng.normal(0.0, spread, size=(len(sizes), dim))
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    embeddings = centres[cluster] + rng.normal(0.0, cluster_std, size=(n, dim))
    means = np.where(cluster < n_planted, planted_loss, background_loss)
    losses = rng.exponential(means)
    order = rng.permutation(n)
    cluster = cluster[order]
    return PlantedData(
        embeddings=embeddings[order].astype(np.float32),
        losses=losses[order].astype(np.float32),
        cluster=cluster,
        planted=[cluster == j for j in range(n_planted)],
    )


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (i < extra) for i in range(parts)]


def precision_at_k(scores: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Share of the k highest-scored examples that are relevant (ties broken by index)."""
    return float(np.asarray(relevant)[top_examples(scores, k)].mean())

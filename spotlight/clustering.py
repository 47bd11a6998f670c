"""The clustering baseline the paper's authors also shipped: a Gaussian mixture over the
embeddings, with clusters ranked by their mean loss."""

from __future__ import annotations

import numpy as np

from spotlight.errors import SpotlightError


def fit_clusters(embeddings: np.ndarray, losses: np.ndarray, components: int = 50,
                 seed: int = 0, covariance_type: str = "diag") -> tuple[np.ndarray, np.ndarray]:
    """Fit a Gaussian mixture; return each example's cluster and each cluster's mean loss
    (NaN for a cluster left empty)."""
    from sklearn.mixture import GaussianMixture

    embeddings = np.asarray(embeddings, dtype=np.float64)
    if components < 1:
        raise SpotlightError(f"components must be >= 1, got {components}")
    if components > len(embeddings):
        raise SpotlightError(f"components ({components}) must not exceed the number of "
                             f"examples ({len(embeddings)})")
    mixture = GaussianMixture(n_components=components, covariance_type=covariance_type,
                              random_state=seed, reg_covar=1e-4)
    assignments = mixture.fit_predict(embeddings)
    counts = np.bincount(assignments, minlength=components)
    sums = np.bincount(assignments, weights=losses, minlength=components)
    with np.errstate(invalid="ignore", divide="ignore"):
        cluster_loss = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return assignments, cluster_loss

"""The Spotlight (d'Eon et al., 2021): find where a trained model fails systematically.

    from spotlight import run_spotlight, run_spotlights, InferenceResults
    results = InferenceResults.load("inference_results/movielens_val_deepset.npz")
    spotlights = run_spotlights(results.embeddings, results.losses, min_weight=0.05)
"""

from spotlight.errors import SpotlightError
from spotlight.optimizer import run_spotlight, run_spotlights
from spotlight.results import InferenceResults, SpotlightResults

__all__ = [
    "InferenceResults",
    "SpotlightError",
    "SpotlightResults",
    "run_spotlight",
    "run_spotlights",
]

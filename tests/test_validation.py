"""Bad input to the optimiser: a one-line SpotlightError that says what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spotlight import SpotlightError, run_spotlight
from tests.conftest import FAST


def _data(n=100, dim=4):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, dim)).astype(np.float32), rng.exponential(size=n).astype(np.float32)


def _with(index, value, array):
    array = array.copy()
    array.flat[index] = value
    return array


X, L = _data()
BAD_CASES = {
    "length mismatch": ((X, L[:-1], 10), {}, "embeddings has 100 rows but losses has 99"),
    "nan embedding": ((_with(7, np.nan, X), L, 10), {}, "embeddings has 1 rows with NaN or inf"),
    "inf loss": ((X, _with(3, np.inf, L), 10), {}, "losses has 1 rows with NaN or inf .*index 3"),
    "nan loss": ((X, _with(0, np.nan, L), 10), {}, "losses has 1 rows with NaN"),
    "negative loss": ((X, _with(5, -1.0, L), 10), {}, "losses must be non-negative; 1 are"),
    "zero min_weight": ((X, L, 0), {}, "min_weight must be > 0"),
    "negative min_weight": ((X, L, -3), {}, "min_weight must be > 0"),
    "min_weight = N": ((X, L, 100), {}, "min_weight 100 must be smaller than the number"),
    "min_weight > N": ((X, L, 500), {}, "min_weight 500 must be smaller than the number"),
    "top_components > D": ((X, L, 10), {"top_components": 5}, r"top_components must be in \[1"),
    "past weights length": ((X, L, 10), {"past_weights": [np.ones(99)]},
                            r"past_weights\[0\] has 99 weights but there are 100"),
    "1-D embeddings": ((X[:, 0], L, 10), {}, "embeddings must be 2-D"),
    "string losses": ((X, np.array(["a"] * 100), 10), {}, "losses must be numeric"),
    "counts length": ((X, L, 10), {"counts": np.ones(3)}, "counts has 3 rows"),
    "negative counts": ((X, L, 10), {"counts": -np.ones(100)}, "counts must be non-negative"),
    "label_coeff without labels": ((X, L, 10), {"label_coeff": 1.0},
                                   "label_coeff is set but no labels"),
    "unknown kernel": ((X, L, 10), {"kernel": "box"}, "kernel must be one of"),
}


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_raises_clear_error(case):
    args, options, message = BAD_CASES[case]
    with pytest.raises(SpotlightError, match=message) as info:
        run_spotlight(*args, **options, **FAST)
    assert "\n" not in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(SpotlightError, match="CUDA is not available"):
        run_spotlight(X, L, 10, **{**FAST, "device": "cuda"})


def test_objective_overflow_is_reported():
    """Losses near float32's maximum overflow the weighted sum: the run stops with a message
    naming the step instead of returning NaN weights."""
    with pytest.raises(SpotlightError, match="objective became inf at step 0"):
        run_spotlight(X, np.full(100, 3e38, np.float32), 10, **FAST)


def test_diverging_parameters_are_reported():
    with pytest.raises(SpotlightError, match="objective became NaN at step 1 .*diverged"):
        run_spotlight(X, L, 10, learning_rate=1e36, **FAST)

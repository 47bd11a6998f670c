"""The optimiser finds what it should, on synthetic problems with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spotlight import SpotlightError, run_spotlight, run_spotlights
from spotlight.optimizer import ResetOnPlateau, barrier_schedule, kernel_values
from spotlight.synthetic import make_planted_clusters, precision_at_k
from tests.conftest import FAST


@pytest.mark.parametrize("kernel", ["gaussian", "quadratic"])
@pytest.mark.parametrize("spherical", [True, False], ids=["spherical", "full"])
def test_recovers_planted_cluster(planted, kernel, spherical):
    size = int(planted.planted[0].sum())
    result = run_spotlight(planted.embeddings, planted.losses, size, kernel=kernel,
                           spherical=spherical, **FAST)
    assert precision_at_k(result.weights, planted.planted[0], size) >= 0.9
    # The barrier ends 0.05 S above S, so the spotlight holds about 1.05 S of kernel mass.
    assert abs(result.total_weight - 1.05 * size) <= 0.10 * 1.05 * size
    assert result.weighted_loss > 3 * planted.losses.mean()


def test_three_chained_spotlights_find_three_regions():
    data = make_planted_clusters(n=3000, dim=16, n_planted=3, planted_fraction=0.02, seed=3)
    size = int(data.planted[0].sum())
    results = run_spotlights(data.embeddings, data.losses, size, num_spotlights=3, **FAST)
    found = []
    for result in results:
        shares = [precision_at_k(result.weights, region, size) for region in data.planted]
        found.append(int(np.argmax(shares)))
        assert max(shares) >= 0.8, shares
    assert sorted(found) == [0, 1, 2]


def test_flip_objective_finds_low_loss_region():
    data = make_planted_clusters(n=2000, dim=16, background_loss=1.0, planted_loss=0.05,
                                 seed=2)
    size = int(data.planted[0].sum())
    flipped = run_spotlight(data.embeddings, data.losses, size, flip_objective=True, **FAST)
    usual = run_spotlight(data.embeddings, data.losses, size, **FAST)
    assert precision_at_k(flipped.weights, data.planted[0], size) >= 0.9
    assert precision_at_k(usual.weights, data.planted[0], size) <= 0.1
    assert flipped.weighted_loss < 0.2 * data.losses.mean()


def test_zero_counts_hide_a_region():
    """Two planted regions, the first with the higher loss: the spotlight finds it, unless
    its examples count zero times, and then it finds the second."""
    data = make_planted_clusters(n=2000, dim=16, n_planted=2, planted_loss=2.0, seed=4)
    losses = data.losses.copy()
    losses[data.planted[0]] *= 2.0
    size = int(data.planted[0].sum())
    counts = np.where(data.planted[0], 0.0, 1.0)
    plain = run_spotlight(data.embeddings, losses, size, **FAST)
    counted = run_spotlight(data.embeddings, losses, size, counts=counts, **FAST)
    assert precision_at_k(plain.weights, data.planted[0], size) >= 0.9
    assert precision_at_k(counted.weights, data.planted[1], size) >= 0.9
    assert counted.weights[data.planted[0]].sum() < 1e-3


def test_integer_counts_equal_duplicated_examples(rng):
    """counts_i = c is the same problem as example i repeated c times."""
    data = make_planted_clusters(n=400, dim=6, planted_fraction=0.05, seed=5)
    counts = rng.integers(1, 4, size=400)
    repeated = np.repeat(np.arange(400), counts)
    options = {**FAST, "num_steps": 300, "dtype": torch.float64}
    counted = run_spotlight(data.embeddings, data.losses, 30, counts=counts, **options)
    duplicated = run_spotlight(data.embeddings[repeated], data.losses[repeated], 30, **options)
    np.testing.assert_allclose(counted.mean, duplicated.mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(counted.total_weight, duplicated.total_weight, rtol=1e-6)
    first_copy = np.searchsorted(repeated, np.arange(400))
    np.testing.assert_allclose(counted.unnormalized_weights,
                               duplicated.unnormalized_weights[first_copy], rtol=1e-5, atol=1e-7)


def _two_label_region(seed: int):
    """A high-loss region whose two halves, side by side along one axis, carry labels 0, 1."""
    rng = np.random.default_rng(seed)
    n, dim, size, region = 2000, 8, 40, 160
    centres = rng.normal(0, 3, size=(6, dim))
    x = centres[rng.integers(0, 6, n)] + rng.normal(0, 0.5, (n, dim))
    labels = rng.integers(0, 2, n)
    losses = rng.exponential(0.3, n)
    side = np.where(np.arange(region) < region // 2, -0.75, 0.75)
    x[:region] = rng.normal(0, 3, dim) + rng.normal(0, 0.5, (region, dim))
    x[:region, 0] += side
    labels[:region] = side > 0
    losses[:region] = rng.exponential(2.0, region)
    return x, losses, labels, size


def _entropy_bits(weights, classes):
    share = np.bincount(classes, weights=weights) / weights.sum()
    share = share[share > 0]
    return float(-(share * np.log2(share)).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("which", ["label", "prediction"])
def test_entropy_penalty_pushes_toward_one_class(seed, which):
    x, losses, labels, size = _two_label_region(seed)
    if which == "label":
        penalty = {"labels": labels, "label_coeff": 3.0}
    else:  # predictions given as (N, C) outputs: the penalty uses their argmax
        penalty = {"predictions": np.eye(2)[labels] * 0.8 + 0.1, "prediction_coeff": 3.0}
    plain = run_spotlight(x, losses, size, **FAST)
    penalised = run_spotlight(x, losses, size, **penalty, **FAST)
    assert _entropy_bits(penalised.weights, labels) < _entropy_bits(plain.weights, labels) - 0.05
    assert penalised.weighted_loss > 3 * losses.mean()  # still a high-loss spotlight


def test_final_weights_are_those_of_the_final_parameters(planted):
    """39 steps with status every 20: the weights are the 39th step's, recomputable from the
    saved mean and precision (the published code returned step 20's)."""
    result = run_spotlight(planted.embeddings, planted.losses, 40, num_steps=39,
                           print_every=20, progress=False, spherical=False, dtype=torch.float64)
    diff = planted.embeddings.astype(np.float64) - result.mean
    d = np.einsum("nd,de,ne->n", diff, result.precision_matrix(), diff)
    np.testing.assert_allclose(result.unnormalized_weights, np.exp(-d / 2), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(result.weights, np.exp(-d / 2) / np.exp(-d / 2).sum(), rtol=1e-5)
    assert len(result.history["objective"]) == 39


def test_full_precision_stays_symmetric_positive_definite(planted):
    result = run_spotlight(planted.embeddings, planted.losses, 40, spherical=False,
                           **{**FAST, "num_steps": 200})
    precision = result.precision_matrix()
    np.testing.assert_allclose(precision, precision.T, atol=1e-5)
    assert np.linalg.eigvalsh(precision).min() > 0


def test_same_seed_same_weights(planted):
    options = {**FAST, "num_steps": 200, "top_components": 8, "seed": 7}
    first = run_spotlight(planted.embeddings, planted.losses, 40, **options)
    second = run_spotlight(planted.embeddings, planted.losses, 40, **options)
    assert np.array_equal(first.weights, second.weights)
    assert np.array_equal(first.history["objective"], second.history["objective"])


def test_top_components_optimises_in_pca_space(planted):
    result = run_spotlight(planted.embeddings, planted.losses, 40, top_components=4, **FAST)
    assert result.mean.shape == (4,)
    assert result.pca_components.shape == (4, 16)
    assert precision_at_k(result.weights, planted.planted[0], 40) >= 0.9


def test_fraction_min_weight_is_share_of_n(planted):
    result = run_spotlight(planted.embeddings, planted.losses, 0.02, **{**FAST, "num_steps": 50})
    assert result.settings["min_weight_count"] == pytest.approx(40.0)


def test_float64_input_and_dtype(planted):
    result = run_spotlight(planted.embeddings.astype(np.float64), planted.losses.astype(np.float64),
                           40, dtype=torch.float64, **{**FAST, "num_steps": 50})
    assert result.mean.dtype == np.float64


def test_far_from_origin_quadratic_needs_centroid_start(planted):
    """Every coordinate +100 (in 16-D; the published failure was +20 in 512-D): no point lies
    inside the quadratic spotlight at the origin. The error says what to do, and starting at
    the centroid recovers the un-offset optimum."""
    offset = planted.embeddings.astype(np.float64) + 100.0  # exact in float64
    with pytest.raises(SpotlightError, match="init_mean='centroid'"):
        run_spotlight(offset, planted.losses, 40, kernel="quadratic", **FAST)
    # 300 steps: later, with the barrier tight, rounding differences of 1e-14 grow.
    options = {**FAST, "kernel": "quadratic", "init_mean": "centroid", "dtype": torch.float64,
               "num_steps": 300}
    moved = run_spotlight(offset, planted.losses, 40, **options)
    original = run_spotlight(planted.embeddings.astype(np.float64), planted.losses, 40, **options)
    np.testing.assert_allclose(moved.weights, original.weights, atol=1e-9)
    np.testing.assert_allclose(moved.mean - 100.0, original.mean, atol=1e-9)


def test_barrier_schedule_ends():
    schedule = barrier_schedule(1000.0, 50.0, None, 11)
    assert schedule[0] == pytest.approx(950.0) and schedule[-1] == pytest.approx(2.5)
    assert np.all(np.diff(schedule) < 0)


def test_kernel_derivatives_match_finite_differences():
    d = torch.tensor([0.1, 0.5, 0.9, 2.0], dtype=torch.float64)
    step = 1e-6
    for kernel in ("gaussian", "quadratic"):
        _, dk = kernel_values(d, kernel)
        above, below = kernel_values(d + step, kernel)[0], kernel_values(d - step, kernel)[0]
        numeric = (above - below) / (2 * step)
        torch.testing.assert_close(dk, numeric, rtol=1e-5, atol=1e-8)


def test_plateau_scheduler_decays_and_resets():
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([parameter], lr=1.0)
    scheduler = ResetOnPlateau(optimizer, factor=0.5, patience=2)
    for metric in [-1.0, -2.0, -1.0, -1.0]:  # improvement, then two bad steps: no decay yet
        scheduler.step(metric)
    assert optimizer.param_groups[0]["lr"] == 1.0
    scheduler.step(-1.0)  # third bad step > patience: decay, and forget the best
    assert optimizer.param_groups[0]["lr"] == 0.5
    scheduler.step(5.0)  # first value after a reset is the new best, however bad
    assert scheduler.best == 5.0 and scheduler.bad_steps == 0
    # A slightly worse value (within 1e-4 relative) is not a bad step, as in torch.
    scheduler.step(5.0004)
    assert scheduler.bad_steps == 0

"""The closed-form objective and gradient equal the straightforward autograd formulation
of the published math (D x D precision matrix), on random inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spotlight.optimizer import FullSpace, SphericalSpace, SpotlightObjective
from spotlight.reference import reference_objective


def _random_orthogonal(dim: int, generator: torch.Generator) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    return q


@pytest.mark.parametrize("kernel", ["gaussian", "quadratic"])
@pytest.mark.parametrize("spherical", [True, False], ids=["spherical", "full"])
@pytest.mark.parametrize("extras", ["plain", "flip", "counts+entropy"])
@pytest.mark.parametrize("seed", [0, 1])
def test_closed_form_matches_autograd(kernel, spherical, extras, seed):
    generator = torch.Generator().manual_seed(seed)
    n, dim, n_classes = 300, 7, 3
    x = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    losses = torch.rand(n, generator=generator, dtype=torch.float64) * 2
    mean = 0.3 * torch.randn(dim, generator=generator, dtype=torch.float64)
    log_scale = math.log(0.08)  # most points inside the quadratic kernel, some outside
    counts = entropy_terms = None
    if extras == "counts+entropy":
        counts = torch.rand(n, generator=generator, dtype=torch.float64) * 3
        classes = torch.randint(0, n_classes, (n,), generator=generator)
        predicted = torch.randint(0, n_classes, (n,), generator=generator)
        entropy_terms = [(0.7, classes, n_classes), (0.4, predicted, n_classes)]
    barrier = np.array([200.0])  # mass < S + b: the barrier is active
    min_weight = 400.0

    if spherical:
        space = SphericalSpace(x, mean, log_scale)
        params = [mean.clone().requires_grad_(), torch.tensor(log_scale, dtype=torch.float64,
                                                              requires_grad=True)]
        precision = lambda: torch.exp(params[1]) * torch.eye(dim, dtype=torch.float64)  # noqa: E731
    else:
        space = FullSpace(x, mean, log_scale)
        rotation = _random_orthogonal(dim, generator)
        log_d = log_scale + 0.5 * torch.randn(dim, generator=generator, dtype=torch.float64)
        space.rotation.copy_(rotation)
        space.log_d.copy_(log_d)
        params = [mean.clone().requires_grad_(), rotation.clone().requires_grad_(),
                  log_d.clone().requires_grad_()]
        precision = lambda: params[1] @ torch.diag(torch.exp(params[2])) @ params[1].T  # noqa: E731

    objective_fn = SpotlightObjective(
        space, kernel, losses, min_weight, barrier, barrier_scale=2.0,
        flip_objective=extras == "flip", counts=counts, entropy_terms=entropy_terms or ())
    objective, weighted_loss, mass = objective_fn.evaluate_with_gradient(0)

    expected, expected_loss, expected_mass = reference_objective(
        params[0], precision(), x, losses, min_weight, float(barrier[0]), kernel=kernel,
        barrier_scale=2.0, flip_objective=extras == "flip", counts=counts,
        entropy_terms=entropy_terms or ())
    assert expected_mass.item() < min_weight + barrier[0]
    (-expected).backward()
    assert objective == pytest.approx(expected.item(), rel=1e-10)
    assert weighted_loss == pytest.approx(expected_loss.item(), rel=1e-10)
    assert mass == pytest.approx(expected_mass.item(), rel=1e-10)
    for ours, theirs in zip(space.parameters, params, strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-7, atol=1e-10)


def test_float32_matches_float64_reference():
    """float32 (the default) agrees with the float64 autograd gradient to float tolerance."""
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(5000, 64, generator=generator, dtype=torch.float64) + 2.0
    losses = torch.rand(5000, generator=generator, dtype=torch.float64)
    mean = torch.randn(64, generator=generator, dtype=torch.float64)
    space = SphericalSpace(x.float(), mean.float(), math.log(0.01))
    objective_fn = SpotlightObjective(space, "gaussian", losses.float(), 100.0, np.array([50.0]))
    objective, _, _ = objective_fn.evaluate_with_gradient(0)

    mean64 = mean.clone().requires_grad_()
    log_tau = torch.tensor(math.log(0.01), dtype=torch.float64, requires_grad=True)
    precision = torch.exp(log_tau) * torch.eye(64, dtype=torch.float64)
    expected, _, _ = reference_objective(mean64, precision, x, losses, 100.0, 50.0)
    (-expected).backward()
    assert objective == pytest.approx(expected.item(), rel=1e-5)
    torch.testing.assert_close(space.mean.grad.double(), mean64.grad, rtol=1e-3, atol=1e-6)
    torch.testing.assert_close(space.log_tau.grad.double(), log_tau.grad, rtol=1e-3, atol=1e-6)

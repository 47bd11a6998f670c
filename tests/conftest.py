"""Shared fixtures: small synthetic problems with planted regions, on CPU, single-threaded
so that runs repeat exactly and the suite's timing does not depend on the machine's load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spotlight.synthetic import make_planted_clusters

torch.set_num_threads(1)

# Fewer steps than the paper's 5000 keep the suite fast; 1000 are enough on these problems.
FAST = {"num_steps": 1000, "progress": False, "device": "cpu"}


@pytest.fixture(scope="session")
def planted():
    """2,000 points in 16-D, one high-loss cluster holding 2% of them."""
    return make_planted_clusters(n=2000, dim=16, planted_fraction=0.02, seed=1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)

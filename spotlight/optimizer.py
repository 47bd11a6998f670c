"""The spotlight optimiser (SPEC §1), with a closed-form gradient.

A spotlight is a kernel k_i = K((x_i - mu)^T A (x_i - mu)) over embedding space. We maximise
the kernel-weighted mean loss  sum_i a_i k_i l_i / sum_i a_i k_i  (a_i = counts, default 1)
subject to a minimum mass  sum_i a_i k_i >= S, enforced by a barrier that tightens over time.

Why not autograd: the objective depends on the parameters only through the N distances d_i,
so dF/dparams = (dd/dparams)^T h with h_i = dF/dd_i. For a spherical spotlight that is one
matrix-vector product X^T h, and the forward pass is one more (X mu), so a step reads the
N x D matrix twice and does O(N D) work. The published code built the D x D precision and
did O(N D^2) work per step through autograd (see spotlight/reference.py, used to check this).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.results import SpotlightResults

KERNELS = ("gaussian", "quadratic")

# The settings of every spotlights_<domain>.sh in the paper; the API defaults to them.
PUBLISHED_SETTINGS = {"learning_rate": 1e-2, "lr_patience": 10, "num_steps": 5000}


# --------------------------------------------------------------------------- kernels


def kernel_values(d: torch.Tensor, kernel: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Kernel k(d) and its derivative dk/dd for squared Mahalanobis distances d."""
    if kernel == "gaussian":
        k = torch.exp(-0.5 * d)
        return k, -0.5 * k
    k = torch.clamp(1.0 - d, min=0.0)
    return k, -(d < 1.0).to(d.dtype)


# --------------------------------------------------------------------------- parameter spaces


class SphericalSpace:
    """A = tau * I. Forward: d = tau (|x|^2 - 2 x.mu + |mu|^2); backward: one X^T h."""

    def __init__(self, x: torch.Tensor, mean: torch.Tensor, log_tau: float) -> None:
        self.x = x
        # On the CPU, numpy's BLAS does these memory-bound matrix-vector products about 1.4x
        # faster than torch's (measured on this project's AMD machines); both share memory.
        self.x_numpy = x.numpy() if x.device.type == "cpu" else None
        self.sq_norms = (x * x).sum(dim=1)
        self.mean = mean.clone()
        self.log_tau = torch.tensor(log_tau, dtype=x.dtype, device=x.device)
        self.parameters = [self.mean, self.log_tau]

    def _x_times(self, vector: torch.Tensor) -> torch.Tensor:
        if self.x_numpy is None:
            return torch.mv(self.x, vector)
        return torch.from_numpy(self.x_numpy @ vector.numpy())

    def _x_transpose_times(self, vector: torch.Tensor) -> torch.Tensor:
        if self.x_numpy is None:
            return torch.mv(self.x.T, vector)
        return torch.from_numpy(vector.numpy() @ self.x_numpy)

    def distances(self) -> torch.Tensor:
        tau = self.log_tau.exp()
        along = self.sq_norms - 2.0 * self._x_times(self.mean)
        return (along + self.mean.dot(self.mean)).clamp_min_(0.0).mul_(tau)

    def set_ascent_gradient(self, h: torch.Tensor, d: torch.Tensor) -> None:
        """Store -dF/dparams as .grad (optimisers minimise) given h = dF/dd."""
        tau = self.log_tau.exp()
        self.mean.grad = (self._x_transpose_times(h) - self.mean * h.sum()).mul_(2.0 * tau)
        self.log_tau.grad = -h.dot(d)

    def after_step(self) -> None:
        pass

    def precision(self) -> torch.Tensor:
        return self.log_tau.exp()


class FullSpace:
    """A = V diag(exp(log_d)) V^T with V kept orthogonal. O(N D^2) per step, no inverse."""

    def __init__(self, x: torch.Tensor, mean: torch.Tensor, log_d: float) -> None:
        dim = x.shape[1]
        self.x = x
        self.mean = mean.clone()
        self.rotation = torch.eye(dim, dtype=x.dtype, device=x.device)
        self.log_d = torch.full((dim,), log_d, dtype=x.dtype, device=x.device)
        self.parameters = [self.mean, self.rotation, self.log_d]

    def distances(self) -> torch.Tensor:
        shift = self.mean @ self.rotation
        self.z = torch.addmm(-shift.unsqueeze(0), self.x, self.rotation)
        self.z_sq = self.z * self.z
        self.scales = self.log_d.exp()
        return self.z_sq @ self.scales

    def set_ascent_gradient(self, h: torch.Tensor, d: torch.Tensor) -> None:
        grad_z = self.z * (2.0 * h).unsqueeze(1) * self.scales
        grad_z_sum = grad_z.sum(dim=0)
        grad_rotation = self.x.T @ grad_z - torch.outer(self.mean, grad_z_sum)
        self.rotation.grad = -grad_rotation
        self.mean.grad = self.rotation @ grad_z_sum
        self.log_d.grad = -(h @ self.z_sq) * self.scales

    def after_step(self) -> None:
        # Project V back to the nearest orthogonal matrix (polar factor U Vh of its SVD).
        u, _, vh = torch.linalg.svd(self.rotation)
        self.rotation.copy_(u @ vh)

    def precision(self) -> torch.Tensor:
        return (self.rotation * self.log_d.exp()) @ self.rotation.T


# --------------------------------------------------------------------------- learning rate


class ResetOnPlateau:
    """Multiply the learning rate by ``factor`` after more than ``patience`` steps without
    improvement of the minimised metric (the negated objective), then forget the best value
    and count afresh: the published code's ReduceLROnPlateau subclass.

    Improvement means metric < best + threshold * |best|. For a negative metric (a positive
    objective, as in every run of the paper) that is exactly torch's test, best * (1 -
    threshold), which tolerates a slightly worse value so that slow early progress does not
    decay the learning rate. torch's test turns strict for a positive metric, which stalls a
    run whose objective is negative (flip_objective, entropy penalties) at its start; the
    same tolerance on either side avoids that. As in torch, a reduction smaller than
    ``eps`` is skipped.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, factor: float, patience: int,
                 threshold: float = 1e-4, eps: float = 1e-8) -> None:
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.eps = eps
        self.best = math.inf
        self.bad_steps = 0

    def step(self, metric: float) -> None:
        if metric < self.best + self.threshold * abs(self.best) or self.best == math.inf:
            self.best = metric
            self.bad_steps = 0
            return
        self.bad_steps += 1
        if self.bad_steps > self.patience:
            for group in self.optimizer.param_groups:
                if group["lr"] * (1.0 - self.factor) > self.eps:
                    group["lr"] *= self.factor
            self.best = math.inf
            self.bad_steps = 0

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]


# --------------------------------------------------------------------------- objective


class SpotlightObjective:
    """F = sign * weighted mean loss - barrier - sum_j coeff_j * entropy_j, and its gradient.

    All of F's dependence on the parameters goes through k_i, so we form g_i = dF/dk_i in
    closed form, turn it into h_i = dF/dd_i with the kernel's derivative, and let the
    parameter space apply (dd/dparams)^T h.
    """

    def __init__(self, space: SphericalSpace | FullSpace, kernel: str, losses: torch.Tensor,
                 min_weight: float, barrier: np.ndarray, *, barrier_scale: float = 1.0,
                 flip_objective: bool = False, counts: torch.Tensor | None = None,
                 entropy_terms: Sequence[tuple[float, torch.Tensor, int]] = (),
                 init_mean: str = "zero") -> None:
        self.space = space
        self.kernel = kernel
        self.losses = losses
        self.min_weight = min_weight
        self.barrier = barrier.tolist()
        self.barrier_scale = barrier_scale
        self.sign = -1.0 if flip_objective else 1.0
        self.counts = counts
        self.entropy_terms = list(entropy_terms)
        self.init_mean = init_mean

    def kernel_mass(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Kernel values k and per-example mass a * k at the current parameters."""
        k, _ = kernel_values(self.space.distances(), self.kernel)
        return k, (k if self.counts is None else k * self.counts)

    def evaluate_with_gradient(self, step: int) -> tuple[float, float, float]:
        """Return (F, weighted loss, mass) at barrier step ``step``; store -dF/dparams as
        each parameter's .grad, ready for a minimising optimiser."""
        d = self.space.distances()
        k, dk = kernel_values(d, self.kernel)
        mass_k = k if self.counts is None else k * self.counts
        mass, loss_sum = torch.stack((mass_k.sum(), mass_k.dot(self.losses))).tolist()
        if not mass > 0:
            raise _empty_spotlight_error(step, mass, self.kernel, self.init_mean)
        weighted_loss = loss_sum / mass
        barrier = self.barrier[step]
        gap = mass - (self.min_weight + barrier)
        objective = self.sign * weighted_loss
        grad_k = (self.losses - weighted_loss).mul_(self.sign / mass)
        if gap < 0:
            objective -= self.barrier_scale * (gap / barrier) ** 2
            grad_k.add_(-2.0 * self.barrier_scale * gap / barrier**2)
        for coeff, classes, n_classes in self.entropy_terms:
            share = torch.zeros(n_classes, dtype=k.dtype, device=k.device)
            share = share.index_add_(0, classes, mass_k).div_(mass)
            log_share = torch.log2(share.clamp_min(1e-30))
            entropy = -(share * log_share).sum()
            objective -= coeff * float(entropy)
            grad_k.add_((log_share[classes] + entropy).mul_(coeff / mass))
        if not math.isfinite(objective):
            raise SpotlightError(
                f"the objective became {objective} at step {step}; check the losses and try a "
                "smaller learning_rate"
            )
        if self.counts is not None:
            grad_k.mul_(self.counts)
        self.space.set_ascent_gradient(grad_k.mul_(dk), d)
        return objective, weighted_loss, mass


# --------------------------------------------------------------------------- input checks


def _as_float_array(values: Any, name: str, ndim: int) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise SpotlightError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim != ndim:
        raise SpotlightError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))
        raise SpotlightError(
            f"{name} has {len(bad)} rows with NaN or inf values (first at index {bad[0]})"
        )
    return array


def _class_indices(values: Any, name: str, n: int) -> tuple[np.ndarray, int]:
    """Class index per example: 1-D labels of any type, or argmax of (N, C) outputs."""
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if len(array) != n:
        raise SpotlightError(f"{name} has {len(array)} rows but losses has {n}")
    if array.ndim == 2:
        array = array.argmax(axis=1)
    elif array.ndim != 1:
        raise SpotlightError(f"{name} must be (N,) classes or (N, C) outputs, got {array.shape}")
    _, indices = np.unique(array, return_inverse=True)
    return indices.reshape(-1), int(indices.max()) + 1


def resolve_min_weight(min_weight: float, total: float) -> float:
    """S as a count: a value in (0, 1) is a fraction of the total count (N without counts)."""
    if not math.isfinite(min_weight) or min_weight <= 0:
        raise SpotlightError(f"min_weight must be > 0, got {min_weight}")
    size = min_weight * total if min_weight < 1 else float(min_weight)
    if size >= total:
        raise SpotlightError(
            f"min_weight {min_weight} must be smaller than the number of examples ({total:g}); "
            "use a count below N or a fraction in (0, 1)"
        )
    return size


def barrier_schedule(total: float, min_weight: float, barrier_min_x: float | None,
                     num_steps: int) -> np.ndarray:
    """b_t, geometric from total - S down to barrier_min_x (default 0.05 S), one per step."""
    end = 0.05 * min_weight if barrier_min_x is None else barrier_min_x
    if end <= 0:
        raise SpotlightError(f"barrier_min_x must be > 0, got {end}")
    return np.geomspace(total - min_weight, end, num_steps)


# --------------------------------------------------------------------------- the optimiser


def run_spotlight(
    embeddings: Any,
    losses: Any,
    min_weight: float,
    *,
    kernel: str = "gaussian",
    spherical: bool = True,
    num_steps: int = PUBLISHED_SETTINGS["num_steps"],
    learning_rate: float = PUBLISHED_SETTINGS["learning_rate"],
    lr_patience: int = PUBLISHED_SETTINGS["lr_patience"],
    lr_factor: float = 0.5,
    barrier_min_x: float | None = None,
    barrier_scale: float = 1.0,
    past_weights: Sequence[Any] = (),
    top_components: int | None = None,
    flip_objective: bool = False,
    counts: Any = None,
    labels: Any = None,
    label_coeff: float = 0.0,
    predictions: Any = None,
    prediction_coeff: float = 0.0,
    init_mean: str = "zero",
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float32,
    seed: int | None = 0,
    progress: bool = True,
    print_every: int = 20,
) -> SpotlightResults:
    """Optimise one spotlight over ``embeddings`` (N, D) with per-example ``losses`` (N,).

    min_weight: minimum spotlight size S, a count, or a fraction of N if in (0, 1).
    kernel: 'gaussian' (the paper's) or 'quadratic'. spherical: A = tau I, else full A.
    past_weights: earlier spotlights (SpotlightResults or their unnormalized weights); each
        loss is multiplied by (1 - k_i / max k) for each, so this spotlight looks elsewhere.
    top_components: optimise in the first K principal components of the embeddings.
    flip_objective: find the lowest-loss region instead.
    counts: (N,) non-negative multiplicities; mass and mean loss use k_i * counts_i.
    labels / label_coeff, predictions / prediction_coeff: subtract coeff * entropy (bits)
        of the label (predicted class) distribution under the weights. predictions may be
        (N,) classes or (N, C) outputs (argmax is taken).
    init_mean: 'zero' (the paper's start, the origin) or 'centroid' (the data's mean).
    Defaults are the paper's experiment settings (lr 1e-2, patience 10, 5000 steps).
    """
    if kernel not in KERNELS:
        raise SpotlightError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if init_mean not in ("zero", "centroid"):
        raise SpotlightError(f"init_mean must be 'zero' or 'centroid', got {init_mean!r}")
    if num_steps < 1:
        raise SpotlightError(f"num_steps must be >= 1, got {num_steps}")
    if learning_rate <= 0 or not 0 < lr_factor <= 1 or lr_patience < 0:
        raise SpotlightError("learning_rate must be > 0, lr_factor in (0, 1], lr_patience >= 0")
    x_np = _as_float_array(embeddings, "embeddings", 2)
    loss_np = _as_float_array(losses, "losses", 1).astype(np.float64)
    n, dim = x_np.shape
    if len(loss_np) != n:
        raise SpotlightError(f"embeddings has {n} rows but losses has {len(loss_np)}")
    if n < 2:
        raise SpotlightError(f"need at least 2 examples, got {n}")
    if (loss_np < 0).any():
        raise SpotlightError(
            f"losses must be non-negative; {int((loss_np < 0).sum())} are negative "
            f"(min {loss_np.min():.4g})"
        )
    counts_np = None
    if counts is not None:
        counts_np = _as_float_array(counts, "counts", 1).astype(np.float64)
        if len(counts_np) != n:
            raise SpotlightError(f"counts has {len(counts_np)} rows but losses has {n}")
        if (counts_np < 0).any() or counts_np.sum() <= 0:
            raise SpotlightError("counts must be non-negative and not all zero")
    total = float(counts_np.sum()) if counts_np is not None else float(n)
    size = resolve_min_weight(min_weight, total)
    barrier = barrier_schedule(total, size, barrier_min_x, num_steps)

    effective_losses = loss_np.copy()
    for index, past in enumerate(past_weights):
        past_k = past.unnormalized_weights if isinstance(past, SpotlightResults) else past
        past_k = _as_float_array(past_k, f"past_weights[{index}]", 1)
        if len(past_k) != n:
            raise SpotlightError(
                f"past_weights[{index}] has {len(past_k)} weights but there are {n} examples"
            )
        if past_k.max() <= 0 or (past_k < 0).any():
            raise SpotlightError(f"past_weights[{index}] must be non-negative with a positive max")
        effective_losses *= 1.0 - past_k / past_k.max()

    entropy_terms = []
    for coeff, values, name in ((label_coeff, labels, "labels"),
                                (prediction_coeff, predictions, "predictions")):
        if coeff:
            if values is None:
                raise SpotlightError(f"{name.rstrip('s')}_coeff is set but no {name} were given")
            entropy_terms.append((coeff, *_class_indices(values, name, n)))

    pca_mean = pca_components = None
    if top_components is not None:
        if not 1 <= top_components <= min(n, dim):
            raise SpotlightError(
                f"top_components must be in [1, min(N, D)] = [1, {min(n, dim)}], "
                f"got {top_components}"
            )
        from sklearn.decomposition import PCA

        pca = PCA(n_components=top_components, random_state=seed).fit(x_np)
        x_np = pca.transform(x_np)
        pca_mean, pca_components = pca.mean_, pca.components_

    if seed is not None:
        torch.manual_seed(seed)
    torch_device = resolve_device(device)
    to_device = {"dtype": dtype, "device": torch_device}

    # Optimise in coordinates centred on the data's mean: d and every Adam update are the
    # same as in the original coordinates (mu shifts with x), but float32 keeps its accuracy
    # for embeddings far from the origin.
    centroid = torch.as_tensor(x_np.mean(axis=0, dtype=np.float64), **to_device)
    x = torch.as_tensor(x_np, **to_device).sub(centroid).contiguous()
    start = -centroid if init_mean == "zero" else torch.zeros_like(centroid)
    if spherical:
        space: SphericalSpace | FullSpace = SphericalSpace(x, start, math.log(1e-4))
    else:
        space = FullSpace(x, start, math.log(1e-3))
    objective_fn = SpotlightObjective(
        space, kernel, torch.as_tensor(effective_losses, **to_device), size, barrier,
        barrier_scale=barrier_scale, flip_objective=flip_objective,
        counts=None if counts_np is None else torch.as_tensor(counts_np, **to_device),
        entropy_terms=[(coeff, torch.as_tensor(classes, device=torch_device), n_classes)
                       for coeff, classes, n_classes in entropy_terms],
        init_mean=init_mean,
    )

    optimizer = torch.optim.Adam(space.parameters, lr=learning_rate)
    scheduler = ResetOnPlateau(optimizer, lr_factor, lr_patience)
    history = {key: np.empty(num_steps) for key in SpotlightResults.HISTORY_KEYS}
    print_every = max(1, int(print_every))
    loop_start = time.perf_counter()
    single_thread = spherical and torch_device.type == "cpu"
    with torch.no_grad(), _torch_threads(1 if single_thread else None), \
            tqdm(total=num_steps, desc="spotlight", disable=not progress, leave=False,
                 unit="step", mininterval=0.5) as bar:
        for step in range(num_steps):
            objective, weighted_loss, mass = objective_fn.evaluate_with_gradient(step)
            optimizer.step()
            space.after_step()
            history["objective"][step] = objective
            history["weighted_loss"][step] = weighted_loss
            history["total_weight"][step] = mass
            history["lr"][step] = scheduler.lr
            scheduler.step(-objective)
            if (step + 1) % print_every == 0 or step + 1 == num_steps:
                bar.update(step + 1 - bar.n)
                bar.set_postfix(objective=f"{objective:.4f}", mass=f"{mass:.1f}",
                                lr=f"{scheduler.lr:.2e}", refresh=False)

        # The result is the spotlight at the final parameters, not at a printing boundary.
        final_k, final_mass_k = objective_fn.kernel_mass()
        final_mass = float(final_mass_k.sum())
        if not final_mass > 0:
            raise _empty_spotlight_error(num_steps, final_mass, kernel, init_mean)
        weights = (final_mass_k / final_mass).double().cpu().numpy()
        mean = space.mean + centroid
    if torch_device.type == "cuda":
        torch.cuda.synchronize(torch_device)
    loop_seconds = time.perf_counter() - loop_start

    settings = {
        "min_weight": min_weight, "min_weight_count": size, "n": n, "dim": dim,
        "kernel": kernel, "spherical": spherical, "num_steps": num_steps,
        "learning_rate": learning_rate, "lr_patience": lr_patience, "lr_factor": lr_factor,
        "barrier_min_x": float(barrier[-1]), "barrier_scale": barrier_scale,
        "num_past_weights": len(past_weights), "top_components": top_components,
        "flip_objective": flip_objective, "counts": counts is not None,
        "label_coeff": label_coeff, "prediction_coeff": prediction_coeff,
        "init_mean": init_mean, "device": str(torch_device), "dtype": str(dtype),
        "seed": seed, "seconds": round(loop_seconds, 4),
    }
    return SpotlightResults(
        weights=weights.astype(np.float32),
        unnormalized_weights=final_k.cpu().numpy().astype(np.float32),
        mean=mean.cpu().numpy(),
        precision=space.precision().cpu().numpy(),
        total_weight=final_mass,
        weighted_loss=float(weights @ loss_np),
        history=history,
        settings=settings,
        pca_mean=pca_mean,
        pca_components=pca_components,
    )


@contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
    """Run torch single-threaded while numpy's BLAS does the heavy products: the two thread
    pools otherwise spin against each other on the same cores (a 3x slowdown measured here);
    torch's work in a spherical step is on (N,) vectors, which gain nothing from threads."""
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _empty_spotlight_error(step: int, mass: float, kernel: str,
                           init_mean: str) -> SpotlightError:
    if math.isnan(mass):
        return SpotlightError(
            f"the objective became NaN at step {step} (the kernel mass is NaN: the spotlight's "
            "parameters diverged); try a smaller learning_rate"
        )
    if step == 0 and init_mean != "centroid":
        return SpotlightError(
            f"the starting spotlight holds no examples (kernel mass {mass:g} with the {kernel} "
            "kernel): the embeddings lie far from the origin, where the spotlight starts; "
            "start it at the data's mean with init_mean='centroid' (--init_mean centroid)"
        )
    return SpotlightError(
        f"the spotlight's kernel mass became {mass:g} at step {step}: no example is left "
        "inside it; try a smaller learning_rate or a larger barrier_scale"
    )


def run_spotlights(
    embeddings: Any,
    losses: Any,
    min_weight: float,
    num_spotlights: int = 5,
    **options: Any,
) -> list[SpotlightResults]:
    """Run ``num_spotlights`` chained spotlights: each one is told about all earlier ones
    (``past_weights``), as in the paper's five-spotlight runs. Options as run_spotlight."""
    results: list[SpotlightResults] = list(options.pop("past_weights", ()))
    first_new = len(results)
    for _ in range(num_spotlights):
        results.append(
            run_spotlight(embeddings, losses, min_weight, past_weights=results, **options)
        )
    return results[first_new:]

"""Results files: what inference saves and what a spotlight run saves.

Both are plain `.npz` archives read with ``allow_pickle=False``, so a results file from
someone else can be opened without running their code. Writes go to a temporary file in the
same folder and are renamed into place, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from spotlight.errors import SpotlightError

META_PREFIX = "meta__"


def _default_file_mode() -> int:
    """The mode a plain open() would give a new file (mkstemp's files are private)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp_name, _default_file_mode())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def save_npz_atomic(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` (.npz) via a temporary file and a rename."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise SpotlightError(
                f"{path}: array {name!r} has dtype object; it cannot be saved without pickle"
            )
    return write_atomic(path, lambda handle: np.savez(handle, **arrays))


def load_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """Read every array of an .npz without unpickling; one-line errors name the file."""
    path = Path(path)
    if not path.exists():
        raise SpotlightError(f"{path}: {what} file not found")
    if path.is_dir():
        raise SpotlightError(f"{path}: is a folder, expected a {what} .npz file")
    if not zipfile.is_zipfile(path):
        raise SpotlightError(f"{path}: not a readable .npz {what} file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise SpotlightError(
                f"{path}: holds pickled Python objects; only plain arrays are read"
            ) from None
        raise SpotlightError(f"{path}: not a readable .npz {what} file ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise SpotlightError(f"{path}: not a readable .npz {what} file ({error})") from None


def top_examples(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest-scored examples, highest first (ties broken by index)."""
    return np.argsort(-np.asarray(scores), kind="stable")[:k]


def _require(arrays: dict[str, np.ndarray], key: str, path: Path, what: str) -> np.ndarray:
    if key not in arrays:
        raise SpotlightError(
            f"{path}: not a valid {what} file (no {key!r} array; it has {sorted(arrays)})"
        )
    return arrays[key]


def _as_text_array(values: Any) -> np.ndarray:
    """Metadata as a numpy array that needs no pickle (strings become fixed-width unicode)."""
    array = np.asarray(values)
    if array.dtype == object:
        array = np.asarray([str(value) for value in values])
    return array


@dataclass
class InferenceResults:
    """One model's pass over a dataset: what a spotlight needs, and what analysis shows.

    embeddings: (N, D) inputs of the model's final linear layer.
    losses: (N,) per-example loss.
    outputs: optional (N, C) model outputs, e.g. class probabilities.
    labels: optional (N,) true labels.
    metadata: named (N,) or (N, ...) arrays (race, title, text, ...) for analysis.
    info: free-form JSON-able description (model, dataset, split).
    """

    embeddings: np.ndarray
    losses: np.ndarray
    outputs: np.ndarray | None = None
    labels: np.ndarray | None = None
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.embeddings = np.asarray(self.embeddings)
        self.losses = np.asarray(self.losses)
        self.metadata = {name: _as_text_array(values) for name, values in self.metadata.items()}

    def __len__(self) -> int:
        return len(self.losses)

    def validate(self, source: str = "inference results") -> None:
        """Check shapes and values; raise a one-line SpotlightError naming ``source``."""
        if self.embeddings.ndim != 2:
            raise SpotlightError(
                f"{source}: embeddings must be 2-D (N, D), got shape {self.embeddings.shape}"
            )
        if self.losses.ndim != 1:
            raise SpotlightError(
                f"{source}: losses must be 1-D (N,), got shape {self.losses.shape}"
            )
        n = len(self.losses)
        if self.embeddings.shape[0] != n:
            raise SpotlightError(
                f"{source}: embeddings has {self.embeddings.shape[0]} rows but losses has {n}"
            )
        if n == 0:
            raise SpotlightError(f"{source}: holds no examples")
        for name, array in (("outputs", self.outputs), ("labels", self.labels)):
            if array is not None and len(array) != n:
                raise SpotlightError(f"{source}: {name} has {len(array)} rows but losses has {n}")
        for name, array in self.metadata.items():
            if len(array) != n:
                raise SpotlightError(
                    f"{source}: metadata {name!r} has {len(array)} rows but losses has {n}"
                )

    def save(self, path: str | os.PathLike) -> Path:
        """Validate, then write atomically to ``path`` (.npz)."""
        self.validate(str(path))
        arrays: dict[str, np.ndarray] = {
            "embeddings": self.embeddings,
            "losses": self.losses,
            "info": np.asarray(json.dumps(self.info)),
        }
        if self.outputs is not None:
            arrays["outputs"] = np.asarray(self.outputs)
        if self.labels is not None:
            arrays["labels"] = np.asarray(self.labels)
        for name, values in self.metadata.items():
            arrays[META_PREFIX + name] = values
        return save_npz_atomic(path, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> InferenceResults:
        """Read and validate an inference results file."""
        path = Path(path)
        arrays = load_npz(path, "inference results")
        results = cls(
            embeddings=_require(arrays, "embeddings", path, "inference results"),
            losses=_require(arrays, "losses", path, "inference results"),
            outputs=arrays.get("outputs"),
            labels=arrays.get("labels"),
            metadata={
                name[len(META_PREFIX):]: values
                for name, values in arrays.items()
                if name.startswith(META_PREFIX)
            },
            info=json.loads(str(arrays["info"])) if "info" in arrays else {},
        )
        results.validate(str(path))
        return results

    def array(self, name: str) -> np.ndarray:
        """An array by name: 'losses', 'outputs', 'labels', 'embeddings' or a metadata name."""
        if name in ("embeddings", "losses", "outputs", "labels"):
            value = getattr(self, name)
            if value is not None:
                return value
        elif name in self.metadata:
            return self.metadata[name]
        known = ["embeddings", "losses"] + [
            key for key in ("outputs", "labels") if getattr(self, key) is not None
        ]
        known += sorted(self.metadata)
        raise SpotlightError(f"no array named {name!r}; this file has {known}")


@dataclass
class SpotlightResults:
    """One optimised spotlight.

    weights: (N,) normalised weights (sum to 1): how much each example is in the spotlight.
    unnormalized_weights: (N,) kernel values k_i in [0, 1].
    mean: (D,) centre, in the space that was optimised (PCA space with top_components).
    precision: () scalar tau for a spherical spotlight (A = tau * I), or (D, D) matrix.
    total_weight: final kernel mass sum_i k_i (times counts), the spotlight's size.
    weighted_loss: final weighted mean loss inside the spotlight (original losses).
    history: per-step arrays 'objective', 'weighted_loss', 'total_weight', 'lr'.
    settings: the run's settings, saved as JSON.
    pca_mean, pca_components: the projection used when top_components was set.
    """

    weights: np.ndarray
    unnormalized_weights: np.ndarray
    mean: np.ndarray
    precision: np.ndarray
    total_weight: float
    weighted_loss: float
    history: dict[str, np.ndarray]
    settings: dict[str, Any]
    pca_mean: np.ndarray | None = None
    pca_components: np.ndarray | None = None

    HISTORY_KEYS = ("objective", "weighted_loss", "total_weight", "lr")

    def __len__(self) -> int:
        return len(self.weights)

    def precision_matrix(self) -> np.ndarray:
        """The (D, D) precision matrix, expanding a spherical spotlight's scalar."""
        if np.ndim(self.precision) == 0:
            return float(self.precision) * np.eye(len(self.mean), dtype=self.mean.dtype)
        return self.precision

    def top_examples(self, k: int) -> np.ndarray:
        """Indices of the k highest-weighted examples, highest first."""
        return top_examples(self.weights, k)

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically to ``path`` (.npz)."""
        arrays = {
            "weights": self.weights,
            "unnormalized_weights": self.unnormalized_weights,
            "mean": self.mean,
            "precision": np.asarray(self.precision),
            "total_weight": np.asarray(self.total_weight),
            "weighted_loss": np.asarray(self.weighted_loss),
            "settings": np.asarray(json.dumps(self.settings)),
        }
        for key in self.HISTORY_KEYS:
            arrays[f"history_{key}"] = np.asarray(self.history[key])
        if self.pca_mean is not None and self.pca_components is not None:
            arrays["pca_mean"] = self.pca_mean
            arrays["pca_components"] = self.pca_components
        return save_npz_atomic(path, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SpotlightResults:
        """Read a spotlight results file."""
        path = Path(path)
        arrays = load_npz(path, "spotlight results")
        what = "spotlight results"
        weights = _require(arrays, "weights", path, what)
        unnormalized = _require(arrays, "unnormalized_weights", path, what)
        if weights.shape != unnormalized.shape or weights.ndim != 1:
            raise SpotlightError(
                f"{path}: weights and unnormalized_weights must be 1-D and of equal length"
            )
        return cls(
            weights=weights,
            unnormalized_weights=unnormalized,
            mean=_require(arrays, "mean", path, what),
            precision=_require(arrays, "precision", path, what),
            total_weight=float(arrays.get("total_weight", unnormalized.sum())),
            weighted_loss=float(arrays.get("weighted_loss", np.nan)),
            history={
                key: arrays.get(f"history_{key}", np.zeros(0, np.float32))
                for key in cls.HISTORY_KEYS
            },
            settings=json.loads(str(arrays["settings"])) if "settings" in arrays else {},
            pca_mean=arrays.get("pca_mean"),
            pca_components=arrays.get("pca_components"),
        )

"""Planted-slice evaluation (after Domino, Eyuboglu et al. 2022) on real images.

Classes of a real image dataset are grouped into superclasses, the task the model learns;
the original classes are subclasses. One slice is planted in the training data at a time:

- rare: one subclass keeps only a fraction alpha of its training examples;
- noisy label: one subclass's training labels are moved to another superclass with
  probability alpha;
- correlation: a visible attribute (a bright border) agrees with a binary task label with
  probability (1 + alpha) / 2 in training and is independent of it in test.

The planted slice is a set of test examples: the subclass (rare, noisy label), or the
examples whose border contradicts the correlation learned in training. Each method ranks
the test examples; precision@k and AUROC score that ranking against the slice.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from spotlight.errors import SpotlightError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
SLICE_KINDS = ("rare", "noisy_label", "correlation")


@dataclass
class ImageDataset:
    """Images (n, h, w) in [0, 1], subclass (n,) and superclass (n,), split train/test."""

    name: str
    train_images: np.ndarray
    train_classes: np.ndarray
    test_images: np.ndarray
    test_classes: np.ndarray
    superclass_of: np.ndarray  # subclass index -> superclass index
    class_names: list[str]


def load_digits_dataset(seed: int = 0) -> ImageDataset:
    """scikit-learn's 8x8 digits; superclass = parity (even / odd); 20% held out."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images / 16.0
    train_x, test_x, train_y, test_y = train_test_split(
        images, digits.target, test_size=0.2, random_state=seed, stratify=digits.target)
    return ImageDataset("digits", train_x, train_y, test_x, test_y,
                        superclass_of=np.arange(10) % 2,
                        class_names=[str(d) for d in range(10)])


FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]
# tops (T-shirt, pullover, coat, shirt), footwear (sandal, sneaker, boot), other
FASHION_SUPERCLASS = np.array([0, 2, 0, 2, 0, 1, 0, 1, 2, 1])


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    _, kind, dims = struct.unpack(">HBB", data[:4])
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    if kind != 0x08:
        raise SpotlightError(f"{path}: not an unsigned-byte IDX file")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion_mnist(folder: Path = FASHION_MNIST_DIR) -> ImageDataset:
    """Fashion-MNIST from Debian's dataset-fashion-mnist package (IDX files)."""
    folder = Path(folder)
    names = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
    arrays = {}
    for key, name in names.items():
        candidates = [folder / f"{name}.gz", folder / name]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise SpotlightError(f"{folder}: no {name}(.gz); install Debian's "
                                 "dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
        arrays[key] = _read_idx(path)
    return ImageDataset("fashion-mnist", arrays["train_images"] / 255.0,
                        arrays["train_labels"].astype(np.int64),
                        arrays["test_images"] / 255.0, arrays["test_labels"].astype(np.int64),
                        superclass_of=FASHION_SUPERCLASS, class_names=FASHION_CLASSES)


# --------------------------------------------------------------------------- planting


@dataclass
class PlantedTask:
    """Training and test inputs and targets with one planted slice (a test-set mask)."""

    kind: str
    alpha: float
    subclass: int | None
    train_images: np.ndarray
    train_targets: np.ndarray
    test_images: np.ndarray
    test_targets: np.ndarray
    test_slice: np.ndarray
    n_targets: int


def add_border(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Set a one-pixel frame to full brightness on the images where ``mask`` is true."""
    images = images.copy()
    images[mask, 0, :] = images[mask, -1, :] = 1.0
    images[mask, :, 0] = images[mask, :, -1] = 1.0
    return images


def plant(dataset: ImageDataset, kind: str, alpha: float, subclass: int | None,
          rng: np.random.Generator) -> PlantedTask:
    """Plant one slice of ``kind`` with strength ``alpha`` (see the module docstring)."""
    train_x, test_x = dataset.train_images, dataset.test_images
    train_y = dataset.superclass_of[dataset.train_classes]
    test_y = dataset.superclass_of[dataset.test_classes]
    n_targets = int(dataset.superclass_of.max()) + 1
    if kind == "rare":
        members = np.flatnonzero(dataset.train_classes == subclass)
        dropped = rng.permutation(members)[int(round(alpha * len(members))):]
        keep = np.setdiff1d(np.arange(len(train_y)), dropped)
        train_x, train_y = train_x[keep], train_y[keep]
        test_slice = dataset.test_classes == subclass
    elif kind == "noisy_label":
        train_y = train_y.copy()
        flipped = (dataset.train_classes == subclass) & (rng.random(len(train_y)) < alpha)
        shift = rng.integers(1, n_targets, size=flipped.sum())
        train_y[flipped] = (train_y[flipped] + shift) % n_targets
        test_slice = dataset.test_classes == subclass
    elif kind == "correlation":
        # The task becomes binary (superclass 0 or not) so "agrees with the label" is defined.
        train_y, test_y = (train_y != 0).astype(np.int64), (test_y != 0).astype(np.int64)
        n_targets = 2
        agrees = rng.random(len(train_y)) < (1 + alpha) / 2
        train_border = np.where(agrees, train_y == 1, train_y == 0)
        test_border = rng.random(len(test_y)) < 0.5
        train_x, test_x = add_border(train_x, train_border), add_border(test_x, test_border)
        test_slice = test_border != (test_y == 1)
        subclass = None
    else:
        raise SpotlightError(f"unknown slice kind {kind!r}; expected one of {SLICE_KINDS}")
    return PlantedTask(kind, alpha, subclass, train_x, train_y, test_x, test_y,
                       test_slice, n_targets)


# --------------------------------------------------------------------------- the model


class SmallMLP(nn.Module):
    """Flattened image -> 128 -> 64 -> classes; the 64-d input of the last layer is the
    embedding."""

    def __init__(self, n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(n_inputs, 128), nn.ReLU(),
                                  nn.Linear(128, 64), nn.ReLU())
        self.head = nn.Linear(64, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_and_infer(task: PlantedTask, epochs: int, seed: int) -> dict[str, np.ndarray]:
    """Train a SmallMLP on the planted training set; run the project's inference loop on
    the test set (embeddings, outputs, losses, labels)."""
    from spotlight.inference import run_inference

    torch.manual_seed(seed)
    images = torch.as_tensor(task.train_images, dtype=torch.float32)
    targets = torch.as_tensor(task.train_targets)
    model = SmallMLP(images[0].numel(), task.n_targets)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        # Slicing shuffled tensors: a DataLoader's per-example collation costs more than
        # this small model's step.
        order = torch.randperm(len(targets), generator=generator)
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            loss = F.cross_entropy(model(images[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    test = TensorDataset(torch.as_tensor(task.test_images, dtype=torch.float32),
                         torch.as_tensor(task.test_targets),
                         torch.arange(len(task.test_targets)))
    return run_inference(model, DataLoader(test, batch_size=512), model.head,
                         torch.device("cpu"), progress=False)


# --------------------------------------------------------------------------- scoring


def auroc(scores: np.ndarray, relevant: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    relevant = np.asarray(relevant, dtype=bool)
    if relevant.all() or not relevant.any():
        return float("nan")
    return float(roc_auc_score(relevant, scores))


def cluster_scores(embeddings: np.ndarray, losses: np.ndarray, components: int,
                   seed: int) -> np.ndarray:
    """The clustering baseline's ranking: each example scores its cluster's mean loss (a
    Gaussian mixture on the embeddings), with its own loss as a tie-breaker."""
    from spotlight.clustering import fit_clusters

    assignments, cluster_loss = fit_clusters(embeddings, losses, components, seed)
    scale = max(float(losses.max()), 1e-12)
    return cluster_loss[assignments] + 1e-6 * losses / scale


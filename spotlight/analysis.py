"""What a spotlight found: plain functions the summary command and the notebooks share.

All take a spotlight's normalised weights (they sum to 1) over the same N examples as the
attribute arrays; "inside" means weighted by the spotlight, "overall" means over all N.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotlight.errors import SpotlightError
from spotlight.results import InferenceResults, SpotlightResults, top_examples


def _normalised(weights: np.ndarray, n: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n,):
        raise SpotlightError(f"weights have shape {weights.shape}, expected ({n},)")
    total = weights.sum()
    if not total > 0:
        raise SpotlightError("weights must have a positive sum")
    return weights / total


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective number of examples, 1 / sum(w^2), of normalised weights."""
    weights = _normalised(weights, len(weights))
    return float(1.0 / np.sum(weights**2))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean of a numeric attribute inside the spotlight."""
    values = np.asarray(values, dtype=np.float64)
    return float(_normalised(weights, len(values)) @ values)


def _enrichment_table(indicators: np.ndarray, names: Sequence, weights: np.ndarray,
                      smoothing: float, min_count: int) -> pd.DataFrame:
    """indicators: (N, V) 0/1 matrix of which value each example has."""
    weights = _normalised(weights, len(indicators))
    counts = indicators.sum(axis=0)
    overall = counts / len(indicators)
    inside = weights @ indicators
    # Shrink the inside share toward the overall share by `smoothing` pseudo-examples, so a
    # value seen in only a handful of highly weighted examples does not top the table.
    size = effective_size(weights)
    smoothed = (size * inside + smoothing * overall) / (size + smoothing)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(overall > 0, smoothed / overall, np.nan)
    table = pd.DataFrame({"value": list(names), "share_inside": inside,
                          "share_overall": overall, "ratio": ratio, "count": counts})
    table = table[table["count"] >= min_count]
    return table.sort_values("ratio", ascending=False, kind="stable").reset_index(drop=True)


def categorical_enrichment(values: Sequence, weights: np.ndarray, smoothing: float = 10.0,
                           min_count: int = 1) -> pd.DataFrame:
    """Per value of a categorical attribute: its share inside the spotlight (weighted), its
    share overall, and the ratio of the two (inside share smoothed toward the overall share
    by ``smoothing`` pseudo-examples), sorted from most over-represented down."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise SpotlightError(f"a categorical attribute must be 1-D, got shape {values.shape}")
    names, codes = np.unique(values, return_inverse=True)
    indicators = np.zeros((len(values), len(names)))
    indicators[np.arange(len(values)), codes.reshape(-1)] = 1.0
    return _enrichment_table(indicators, names.tolist(), weights, smoothing, min_count)


def multi_hot_enrichment(matrix: np.ndarray, names: Sequence[str], weights: np.ndarray,
                         smoothing: float = 10.0, min_count: int = 1) -> pd.DataFrame:
    """As categorical_enrichment, for an (N, K) 0/1 attribute where an example can have
    several values at once (a movie's genres); shares need not sum to 1."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(names):
        raise SpotlightError(f"a multi-hot attribute must be (N, {len(names)}), "
                             f"got {matrix.shape}")
    return _enrichment_table(matrix, list(names), weights, smoothing, min_count)


TOKEN = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; each counted once per text."""
    return sorted(set(TOKEN.findall(str(text).lower())))


def token_enrichment(texts: Sequence[str], weights: np.ndarray, min_count: int = 5,
                     smoothing: float = 10.0, top: int | None = 30) -> pd.DataFrame:
    """Words whose share of texts is highest inside the spotlight relative to overall
    (a word counts once per text); words in fewer than ``min_count`` texts are left out."""
    weights = _normalised(weights, len(texts))
    token_lists = [tokenize(text) for text in texts]
    counts = Counter(token for tokens in token_lists for token in tokens)
    vocabulary = sorted(token for token, count in counts.items() if count >= min_count)
    if not vocabulary:
        return pd.DataFrame(columns=["value", "share_inside", "share_overall", "ratio", "count"])
    column = {token: j for j, token in enumerate(vocabulary)}
    indicators = np.zeros((len(texts), len(vocabulary)))
    for i, tokens in enumerate(token_lists):
        for token in tokens:
            if token in column:
                indicators[i, column[token]] = 1.0
    table = _enrichment_table(indicators, vocabulary, weights, smoothing, min_count)
    return table if top is None else table.head(top)


# --------------------------------------------------------------------------- summaries


def attribute_kinds(metadata: dict[str, np.ndarray], multi_hot: dict[str, Sequence[str]],
                    max_values: int = 30) -> dict[str, str]:
    """Which metadata columns to summarise, and how: 'categorical' (text, booleans, or few
    distinct integers), 'multi_hot' (named in ``multi_hot``) or 'numeric' (other numbers).
    Text with more than ``max_values`` values (titles, ids) is left out."""
    kinds = {}
    for name, values in metadata.items():
        if name in multi_hot:
            kinds[name] = "multi_hot"
            continue
        if values.ndim != 1 or name.endswith("_id"):
            continue
        distinct = len(np.unique(values))
        if values.dtype.kind in "USbiu" and distinct <= max_values:
            kinds[name] = "categorical"
        elif values.dtype.kind in "iuf":
            kinds[name] = "numeric"
    return kinds


def summarize_spotlight(weights: np.ndarray, losses: np.ndarray,
                        metadata: dict[str, np.ndarray],
                        multi_hot: dict[str, Sequence[str]] | None = None,
                        top_per_attribute: int = 2, min_share: float = 0.02) -> str:
    """A readable text summary: size, mean loss inside vs overall, and per attribute the
    values most over-represented inside (share inside >= ``min_share``)."""
    multi_hot = multi_hot or {}
    weights = _normalised(weights, len(losses))
    inside_loss, overall_loss = float(weights @ losses), float(np.mean(losses))
    lines = [f"  effective size {effective_size(weights):,.0f} of {len(losses):,} examples; "
             f"mean loss inside {inside_loss:.3f} vs {overall_loss:.3f} overall "
             f"({inside_loss / overall_loss:.2f}x)"]
    rows, numeric = [], []
    for name, kind in attribute_kinds(metadata, multi_hot).items():
        values = metadata[name]
        if kind == "numeric":
            numeric.append(f"{name} {weighted_mean(values, weights):.3g} inside vs "
                           f"{float(np.mean(values)):.3g} overall")
            continue
        table = (multi_hot_enrichment(values, multi_hot[name], weights) if kind == "multi_hot"
                 else categorical_enrichment(values, weights))
        table = table[(table["share_inside"] >= min_share) & (table["ratio"] > 1.0)]
        for row in table.head(top_per_attribute).itertuples():
            rows.append((name, str(row.value), row.share_inside, row.share_overall, row.ratio))
    if numeric:
        lines.append("  means: " + "; ".join(numeric))
    if rows:
        width = max(len(row[0]) for row in rows)
        value_width = max(len(row[1]) for row in rows)
        lines.append(f"  {'attribute':<{width}}  {'value':<{value_width}}  inside  overall"
                     "  ratio")
        for name, value, inside, overall, ratio in rows:
            lines.append(f"  {name:<{width}}  {value:<{value_width}}  {inside:6.1%}  "
                         f"{overall:7.1%}  {ratio:4.2f}x")
    return "\n".join(lines)


# --------------------------------------------------------------------------- loading


@dataclass
class DomainResults:
    """A domain's inference results and its spotlights, loaded for a notebook section."""

    name: str
    inference: InferenceResults
    spotlights: list[SpotlightResults]

    @property
    def metadata(self) -> dict[str, np.ndarray]:
        return self.inference.metadata


def load_domain(name: str, results_dir, outputs_dir, inference_stem: str,
                spotlight_stem: str, count: int = 5) -> DomainResults | None:
    """Load ``results_dir/inference_stem.npz`` and ``outputs_dir/spotlight_stem_{1..count}.npz``;
    if any is missing or unreadable, print one line saying what and return None."""
    from pathlib import Path

    inference_path = Path(results_dir) / f"{inference_stem}.npz"
    spotlight_paths = [Path(outputs_dir) / f"{spotlight_stem}_{i}.npz"
                       for i in range(1, count + 1)]
    missing = [str(p) for p in [inference_path, *spotlight_paths] if not p.is_file()]
    if missing:
        print(f"{name}: skipped: {missing[0]} not found"
              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        return None
    try:
        inference = InferenceResults.load(inference_path)
        spotlights = [SpotlightResults.load(path) for path in spotlight_paths]
        for path, spotlight in zip(spotlight_paths, spotlights, strict=True):
            if len(spotlight) != len(inference):
                raise SpotlightError(f"{path}: {len(spotlight)} weights for "
                                     f"{len(inference)} examples")
    except SpotlightError as error:
        print(f"{name}: skipped: {error}")
        return None
    return DomainResults(name, inference, spotlights)


def enrichment_by_spotlight(domain: DomainResults, attribute: str, top: int = 5,
                            names: Sequence[str] | None = None) -> pd.DataFrame:
    """For each spotlight, the ``top`` values of ``attribute`` most over-represented in it,
    side by side ("value (inside / overall)"); ``names`` marks a multi-hot attribute."""
    columns = {}
    for number, spotlight in enumerate(domain.spotlights, start=1):
        values = domain.metadata[attribute]
        table = (multi_hot_enrichment(values, names, spotlight.weights) if names is not None
                 else categorical_enrichment(values, spotlight.weights))
        columns[f"spotlight {number}"] = [
            f"{row.value} ({row.share_inside:.0%} / {row.share_overall:.0%})"
            for row in table.head(top).itertuples()]
    return pd.DataFrame({key: pd.Series(value) for key, value in columns.items()})


def spotlight_overview(domain: DomainResults) -> pd.DataFrame:
    """Per spotlight: kernel mass, effective size, mean loss inside vs overall."""
    losses = domain.inference.losses
    rows = []
    for number, spotlight in enumerate(domain.spotlights, start=1):
        rows.append({"spotlight": number, "kernel mass": round(spotlight.total_weight, 1),
                     "effective size": round(effective_size(spotlight.weights)),
                     "mean loss inside": round(weighted_mean(losses, spotlight.weights), 4),
                     "mean loss overall": round(float(np.mean(losses)), 4)})
    return pd.DataFrame(rows).set_index("spotlight")


# --------------------------------------------------------------------------- figures


def plot_optimisation(spotlight, title: str = ""):
    """The objective, the kernel mass against its target, and the learning rate per step."""
    import matplotlib.pyplot as plt

    history = spotlight.history
    steps = np.arange(1, len(history["objective"]) + 1)
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    axes[0].plot(steps, history["objective"])
    axes[0].set_title("objective")
    axes[1].plot(steps, history["total_weight"], label="kernel mass")
    target = spotlight.settings.get("min_weight_count")
    if target is not None:
        axes[1].axhline(target, color="k", linestyle="--", label="minimum size S")
        axes[1].axhline(1.05 * target, color="grey", linestyle=":", label="1.05 S")
    axes[1].set_yscale("log")
    axes[1].legend()
    axes[1].set_title("spotlight size")
    axes[2].plot(steps, history["lr"])
    axes[2].set_yscale("log")
    axes[2].set_title("learning rate")
    for axis in axes:
        axis.set_xlabel("step")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_embedding_pca(embeddings: np.ndarray, losses: np.ndarray, spotlights: Sequence,
                       max_points: int = 5000, seed: int = 0):
    """2-D PCA of the embeddings coloured by loss, with each spotlight's highest-weighted
    examples outlined."""
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    shown = rng.permutation(len(losses))[:max_points]
    points = PCA(n_components=2, random_state=seed).fit(embeddings[shown]).transform(embeddings)
    figure, axis = plt.subplots(figsize=(6.5, 5.5))
    scatter = axis.scatter(points[shown, 0], points[shown, 1], c=losses[shown], s=4,
                           cmap="viridis", vmax=np.quantile(losses, 0.99))
    figure.colorbar(scatter, ax=axis, label="loss")
    for number, spotlight in enumerate(spotlights, start=1):
        top = top_examples(spotlight.weights, max(1, int(spotlight.total_weight)))
        axis.scatter(points[top, 0], points[top, 1], s=14, facecolors="none",
                     edgecolors=f"C{number}", linewidths=0.7, label=f"spotlight {number}")
    axis.legend(loc="best", fontsize=8)
    axis.set_title("embeddings (PCA), coloured by loss")
    axis.set_xlabel("PC 1")
    axis.set_ylabel("PC 2")
    figure.tight_layout()
    return figure


def image_grid(images: Sequence, captions: Sequence[str], columns: int = 6,
               title: str = ""):
    """A grid of images (arrays or PIL images; grayscale shown in gray) with captions."""
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.5 * rows))
    for axis in np.atleast_1d(axes).ravel():
        axis.axis("off")
    cells = np.atleast_1d(axes).ravel()[:len(images)]
    for axis, image, caption in zip(cells, images, captions, strict=True):
        array = np.asarray(image)
        axis.imshow(array, cmap="gray" if array.ndim == 2 else None)
        axis.set_title(caption, fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def top_table(domain: DomainResults, spotlight_number: int, columns: Sequence[str],
              k: int = 10, max_text: int = 120) -> pd.DataFrame:
    """The k highest-weighted examples of one spotlight: weight, loss and ``columns``
    (long texts cut to ``max_text`` characters)."""
    spotlight = domain.spotlights[spotlight_number - 1]
    top = top_examples(spotlight.weights, k)
    table = pd.DataFrame({"example": top, "weight": spotlight.weights[top],
                          "loss": domain.inference.losses[top]})
    for column in columns:
        values = domain.metadata[column][top]
        if values.dtype.kind == "U":
            values = [text if len(text) <= max_text else text[:max_text - 1] + "…"
                      for text in values]
        table[column] = list(values)
    return table.set_index("example")


def top_images(domain: DomainResults, spotlight_number: int, image_root, k: int = 12,
               file_column: str = "file", columns: int = 6):
    """A grid of one spotlight's k highest-weighted images with true and predicted class
    and loss; prints one line and returns None when the image files are not here."""
    from pathlib import Path

    from PIL import Image

    spotlight = domain.spotlights[spotlight_number - 1]
    top = top_examples(spotlight.weights, k)
    classes = domain.inference.info.get("classes") or []
    images, captions = [], []
    for index in top:
        path = Path(str(domain.metadata[file_column][index]))
        if not path.is_absolute() and not path.exists():
            path = Path(image_root) / path
        if not path.is_file():
            print(f"{domain.name}: images not shown: {path} not found (set DATA_DIR)")
            return None
        with Image.open(path) as image:
            images.append(image.copy())
        label = int(domain.inference.labels[index])
        predicted = int(np.argmax(domain.inference.outputs[index]))
        label_name = classes[label] if label < len(classes) else str(label)
        predicted_name = classes[predicted] if predicted < len(classes) else str(predicted)
        captions.append(f"{label_name} -> {predicted_name}\n"
                        f"loss {domain.inference.losses[index]:.2f}")
    return image_grid(images, captions, columns=columns,
                      title=f"{domain.name}: spotlight {spotlight_number}, top {k}")


# Coarse ImageNet groups by class index, as in "Restricted ImageNet" (Tsipras et al., 2019).
IMAGENET_SUPERCLASSES = {"dog": (151, 268), "cat": (281, 285), "frog": (30, 32),
                         "turtle": (33, 37), "bird": (80, 100), "primate": (365, 382),
                         "fish": (389, 397), "crab": (118, 121), "insect": (300, 319)}


def imagenet_superclasses(labels: np.ndarray) -> np.ndarray:
    """A coarse group per ImageNet class index; classes outside the groups are 'other'."""
    groups = np.full(len(labels), "other", dtype=object)
    for name, (low, high) in IMAGENET_SUPERCLASSES.items():
        groups[(labels >= low) & (labels <= high)] = name
    return groups.astype(str)

"""What a spotlight found: plain functions the summary command and the notebooks share.

All take a spotlight's normalised weights (they sum to 1) over the same N examples as the
attribute arrays; "inside" means weighted by the spotlight, "overall" means over all N.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from spotlight.errors import SpotlightError


def _normalised(weights: np.ndarray, n: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n,):
        raise SpotlightError(f"weights have shape {weights.shape}, expected ({n},)")
    total = weights.sum()
    if not total > 0:
        raise SpotlightError("weights must have a positive sum")
    return weights / total


def top_examples(weights: np.ndarray, k: int = 10) -> np.ndarray:
    """Indices of the k highest-weighted examples, highest first (ties by index)."""
    return np.argsort(-np.asarray(weights), kind="stable")[:k]


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

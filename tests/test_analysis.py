"""Analysis helpers on hand-computed cases."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from spotlight.analysis import (
    attribute_kinds,
    categorical_enrichment,
    effective_size,
    imagenet_superclasses,
    multi_hot_enrichment,
    summarize_spotlight,
    token_enrichment,
    top_examples,
    weighted_mean,
)
from spotlight.errors import SpotlightError

matplotlib.use("agg")


def test_top_examples_and_weighted_mean():
    weights = np.array([0.1, 0.4, 0.1, 0.4])
    assert top_examples(weights, 3).tolist() == [1, 3, 0]  # ties by index
    assert weighted_mean([1.0, 2.0, 3.0, 4.0], weights) == pytest.approx(0.1 + 0.8 + 0.3 + 1.6)
    assert effective_size(np.full(4, 0.25)) == pytest.approx(4.0)
    assert effective_size(np.array([1.0, 0, 0, 0])) == pytest.approx(1.0)


def test_categorical_enrichment_by_hand():
    values = np.array(["a", "a", "b", "b", "b", "c"])
    weights = np.array([0.5, 0.5, 0, 0, 0, 0])  # the spotlight is the two "a"s
    table = categorical_enrichment(values, weights, smoothing=0.0).set_index("value")
    assert table.loc["a", "share_inside"] == pytest.approx(1.0)
    assert table.loc["a", "share_overall"] == pytest.approx(2 / 6)
    assert table.loc["a", "ratio"] == pytest.approx(3.0)
    assert table.loc["b", "ratio"] == pytest.approx(0.0)
    assert table.index[0] == "a"  # sorted by ratio
    # Smoothing by 2 pseudo-examples (effective size 2): (2 * 1 + 2 * 1/3) / 4 = 2/3.
    smoothed = categorical_enrichment(values, weights, smoothing=2.0).set_index("value")
    assert smoothed.loc["a", "ratio"] == pytest.approx((2 / 3) / (1 / 3))
    assert list(categorical_enrichment(values, weights, min_count=2)["value"]) == ["a", "b"]


def test_multi_hot_enrichment_by_hand():
    genres = np.array([[1, 0], [1, 1], [0, 1], [0, 1]])
    weights = np.array([0.5, 0.5, 0.0, 0.0])
    table = multi_hot_enrichment(genres, ["Drama", "Comedy"], weights, smoothing=0.0)
    rows = table.set_index("value")
    assert rows.loc["Drama", "share_inside"] == pytest.approx(1.0)
    assert rows.loc["Drama", "ratio"] == pytest.approx(2.0)
    assert rows.loc["Comedy", "share_inside"] == pytest.approx(0.5)
    assert rows.loc["Comedy", "ratio"] == pytest.approx(0.5 / 0.75)
    with pytest.raises(SpotlightError, match="must be"):
        multi_hot_enrichment(genres, ["only one name"], weights)


def test_token_enrichment_counts_each_word_once_per_text():
    texts = ["battery died battery", "battery ok", "great book", "great story", "book"]
    weights = np.array([0.5, 0.5, 0, 0, 0])
    table = token_enrichment(texts, weights, min_count=2, smoothing=0.0, top=None)
    rows = table.set_index("value")
    assert rows.loc["battery", "share_inside"] == pytest.approx(1.0)
    assert rows.loc["battery", "share_overall"] == pytest.approx(2 / 5)
    assert "died" not in rows.index  # in one text only
    assert table["value"].iloc[0] == "battery"


def test_attribute_kinds_and_summary():
    n = 40
    metadata = {"gender": np.array(["M", "F"] * (n // 2)), "user_id": np.arange(n),
                "age": np.arange(20, 20 + n), "rating": np.array([1, 2, 3, 4, 5] * (n // 5)),
                "title": np.array([f"movie {i}" for i in range(n)]),
                "genres": np.eye(2, dtype=bool)[np.arange(n) % 2]}
    kinds = attribute_kinds(metadata, {"genres": ["Drama", "Comedy"]})  # 30 values at most
    assert kinds == {"gender": "categorical", "age": "numeric", "rating": "categorical",
                     "genres": "multi_hot"}
    weights = np.where(np.arange(n) % 2 == 0, 1 / 20, 0.0)  # the "M", Drama examples
    text = summarize_spotlight(weights, np.arange(n, dtype=float), metadata,
                               {"genres": ["Drama", "Comedy"]})
    assert "effective size 20 of 40 examples" in text
    assert "mean loss inside 19.000 vs 19.500 overall" in text
    assert "age 39 inside vs 39.5 overall" in text
    lines = {line.split()[0]: line.split() for line in text.splitlines()[3:]}
    assert lines["gender"][1:4] == ["M", "100.0%", "50.0%"]
    assert lines["genres"][1:4] == ["Drama", "100.0%", "50.0%"]
    assert "title" not in lines and "user_id" not in text


def test_imagenet_superclasses():
    assert imagenet_superclasses(np.array([151, 268, 269, 281, 0, 90])).tolist() == [
        "dog", "dog", "other", "cat", "other", "bird"]


def test_figures_draw(planted):
    from spotlight import run_spotlights
    from spotlight.analysis import image_grid, plot_embedding_pca, plot_optimisation

    spotlights = run_spotlights(planted.embeddings, planted.losses, 40, num_spotlights=2,
                                num_steps=50, progress=False)
    assert len(plot_optimisation(spotlights[0]).axes) == 3
    figure = plot_embedding_pca(planted.embeddings, planted.losses, spotlights)
    assert len(figure.axes[0].collections) == 3  # all points, then one layer a spotlight
    grid = image_grid([np.zeros((4, 4)), np.ones((4, 4, 3))], ["a", "b"], columns=3)
    assert [axis.get_title() for axis in grid.axes[:2]] == ["a", "b"]

"""Planted-slice evaluation: planting, scoring and the clustering baseline on tiny
hand-checkable cases, and the small digits benchmark end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spotlight import InferenceResults
from spotlight.clustering import fit_clusters
from spotlight.errors import SpotlightError
from spotlight.planted import ImageDataset, add_border, auroc, plant
from spotlight.run_clustering import main as clustering_main
from spotlight.synthetic import precision_at_k

ROOT = Path(__file__).resolve().parent.parent


def _toy_dataset(per_class: int = 20) -> ImageDataset:
    classes = np.repeat(np.arange(4), per_class)
    images = np.zeros((len(classes), 5, 5))
    return ImageDataset("toy", images, classes, images[:8], np.array([0, 1, 2, 3] * 2),
                        superclass_of=np.array([0, 0, 1, 1]), class_names=list("abcd"))


def test_precision_and_auroc_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    relevant = np.array([True, False, True, False, False])
    assert precision_at_k(scores, relevant, 2) == 0.5
    assert precision_at_k(scores, relevant, 3) == pytest.approx(2 / 3)
    # 6 (relevant, irrelevant) pairs; relevant ranked above in 5 of them.
    assert auroc(scores, relevant) == pytest.approx(5 / 6)
    assert np.isnan(auroc(scores, np.ones(5, bool)))


def test_rare_keeps_alpha_of_the_subclass():
    task = plant(_toy_dataset(), "rare", 0.25, subclass=2, rng=np.random.default_rng(0))
    assert len(task.train_targets) == 60 + 5  # 3 classes whole, 25% of 20 kept
    assert task.test_slice.tolist() == [False, False, True, False] * 2
    assert task.n_targets == 2


def test_noisy_label_flips_only_the_subclass():
    dataset = _toy_dataset(per_class=1000)
    task = plant(dataset, "noisy_label", 0.3, subclass=1, rng=np.random.default_rng(0))
    clean = dataset.superclass_of[dataset.train_classes]
    flipped = task.train_targets != clean
    assert not flipped[dataset.train_classes != 1].any()
    assert flipped[dataset.train_classes == 1].mean() == pytest.approx(0.3, abs=0.05)


def test_correlation_border_follows_the_label_in_training_only():
    dataset = _toy_dataset(per_class=2000)
    dataset.test_images = np.zeros((4000, 5, 5))
    dataset.test_classes = np.repeat(np.arange(4), 1000)
    task = plant(dataset, "correlation", 0.6, subclass=None, rng=np.random.default_rng(0))
    train_border = task.train_images[:, 0, 0] == 1.0
    agree = train_border == (task.train_targets == 1)
    assert agree.mean() == pytest.approx(0.8, abs=0.02)  # (1 + 0.6) / 2
    test_border = task.test_images[:, 0, 0] == 1.0
    assert (test_border == (task.test_targets == 1)).mean() == pytest.approx(0.5, abs=0.03)
    np.testing.assert_array_equal(task.test_slice, test_border != (task.test_targets == 1))


def test_add_border_frames_only_masked_images():
    images = add_border(np.zeros((2, 4, 4)), np.array([True, False]))
    assert images[0].sum() == 12 and images[1].sum() == 0
    assert images[0, 1:3, 1:3].sum() == 0


def test_clustering_ranks_clusters_by_mean_loss(tmp_path, capsys):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    cluster = np.repeat(np.arange(3), 30)
    embeddings = centres[cluster] + rng.normal(0, 0.3, (90, 2))
    losses = np.array([0.1, 2.0, 0.5])[cluster]
    assignments, cluster_loss = fit_clusters(embeddings, losses, components=3)
    # Each found cluster is one true cluster, with that cluster's loss.
    for found in range(3):
        assert len(set(cluster[assignments == found])) == 1
    assert sorted(np.round(cluster_loss, 6)) == [0.1, 0.5, 2.0]

    path = InferenceResults(embeddings, losses).save(tmp_path / "points.npz")
    assert clustering_main([str(path), str(tmp_path / "clusters.npz"), "--components", "3"]) == 0
    with np.load(tmp_path / "clusters.npz", allow_pickle=False) as saved:
        top = saved["clusters_by_loss"][0]
        assert saved["cluster_loss"][top] == pytest.approx(2.0)
        assert (cluster[saved["assignments"] == top] == 1).all()
    assert "highest mean loss 2.0000" in capsys.readouterr().out
    assert clustering_main([str(path), str(tmp_path / "c.npz"), "--components", "100"]) == 1
    assert "must not exceed the number of examples" in capsys.readouterr().err
    with pytest.raises(SpotlightError):
        fit_clusters(embeddings, losses, components=0)


def test_quick_digits_benchmark(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/planted_slices.py", "--quick",
                           "--output_dir", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(tmp_path / "planted_digits_quick_summary.csv")
    assert set(summary["kind"]) == {"rare", "noisy_label", "correlation"}
    assert len(summary) == 3 * 5
    assert summary["p10_mean"].between(0, 1).all()
    assert (tmp_path / "planted_digits_quick.png").stat().st_size > 0
    settings = pd.read_csv(tmp_path / "planted_digits_quick_settings.csv")
    assert (settings["slice_size"] > 0).all()

"""Results files: round trips, no pickles, atomic writes, one-line errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from spotlight import InferenceResults, SpotlightError, SpotlightResults, run_spotlight
from tests.conftest import FAST


def _inference(n: int = 50, dim: int = 4) -> InferenceResults:
    rng = np.random.default_rng(0)
    return InferenceResults(
        embeddings=rng.normal(size=(n, dim)).astype(np.float32),
        losses=rng.exponential(size=n).astype(np.float32),
        outputs=rng.dirichlet(np.ones(3), size=n).astype(np.float32),
        labels=rng.integers(0, 3, n),
        metadata={"title": [f"Café {i} (1995)" for i in range(n)], "age": np.arange(n)},
        info={"model": "test", "split": "val"},
    )


def test_inference_round_trip(tmp_path):
    original = _inference()
    path = original.save(tmp_path / "inference.npz")
    loaded = InferenceResults.load(path)
    np.testing.assert_array_equal(loaded.embeddings, original.embeddings)
    np.testing.assert_array_equal(loaded.losses, original.losses)
    np.testing.assert_array_equal(loaded.outputs, original.outputs)
    np.testing.assert_array_equal(loaded.labels, original.labels)
    assert loaded.metadata["title"][3] == "Café 3 (1995)"
    np.testing.assert_array_equal(loaded.metadata["age"], np.arange(50))
    assert loaded.info == {"model": "test", "split": "val"}
    assert loaded.array("title")[0] == "Café 0 (1995)"
    with pytest.raises(SpotlightError, match="no array named 'nope'"):
        loaded.array("nope")


def test_spotlight_round_trip(tmp_path, planted):
    result = run_spotlight(planted.embeddings, planted.losses, 40, **{**FAST, "num_steps": 30})
    path = result.save(tmp_path / "spot")  # the suffix is added
    assert path.name == "spot.npz"
    loaded = SpotlightResults.load(path)
    np.testing.assert_array_equal(loaded.weights, result.weights)
    np.testing.assert_array_equal(loaded.unnormalized_weights, result.unnormalized_weights)
    np.testing.assert_array_equal(loaded.mean, result.mean)
    assert float(loaded.precision) == float(result.precision)
    assert loaded.total_weight == result.total_weight
    assert loaded.settings == result.settings
    for key in SpotlightResults.HISTORY_KEYS:
        np.testing.assert_array_equal(loaded.history[key], result.history[key])
    assert loaded.precision_matrix().shape == (16, 16)


def test_pickled_file_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, embeddings=np.array([{"a": 1}], dtype=object), losses=np.zeros(1))
    with pytest.raises(SpotlightError, match="evil.npz: holds pickled Python objects"):
        InferenceResults.load(path)


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    (b"this is not a zip file", "not a readable .npz"),
    (b"PK\x03\x04 corrupt", "not a readable .npz"),
])
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "broken.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpotlightError, match=f"broken.npz: .*{message}"):
        InferenceResults.load(path)


def test_npz_without_embeddings(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    expected = r"other.npz: not a valid inference results file \(no 'embeddings'"
    with pytest.raises(SpotlightError, match=expected):
        InferenceResults.load(tmp_path / "other.npz")


def test_shape_mismatch_named(tmp_path):
    np.savez(tmp_path / "short.npz", embeddings=np.zeros((5, 2)), losses=np.zeros(4))
    with pytest.raises(SpotlightError, match="short.npz: embeddings has 5 rows but losses has 4"):
        InferenceResults.load(tmp_path / "short.npz")


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(OSError, match="disk full"):
        _inference().save(tmp_path / "out.npz")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_is_atomic(tmp_path):
    path = _inference(n=10).save(tmp_path / "out.npz")
    _inference(n=20).save(path)
    assert len(InferenceResults.load(path)) == 20
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]

"""MovieLens end to end on a tiny GroupLens-format folder: prepare, train, inference, the
five-spotlight script and its summary."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from spotlight import InferenceResults, SpotlightResults
from spotlight.checkpoints import load_checkpoint
from spotlight.models import FactorizedAutoencoder
from spotlight.movielens import GENRES, prepare_ml100k
from tests.fixtures import ROOT, run_command, write_tiny_ml100k, zip_folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("movielens")
    source = write_tiny_ml100k(root / "source", n_users=60, n_items=50, n_ratings=1500)
    prepare_ml100k(root / "data" / "movielens" / "ml-100k", zip_path=zip_folder(
        source, root / "ml-100k.zip"), download=False, expected_sizes=(1500, 60, 50),
        log=lambda line: None)
    env = {"DATA_DIR": str(root / "data"), "MODEL_DIR": str(root / "models"),
           "INFERENCE_DIR": str(root / "inference"), "OUTPUT_DIR": str(root / "outputs"),
           "PYTHON": sys.executable}
    return root, env


def test_prepare_command_reports_wrong_size(workspace, tmp_path):
    root, env = workspace
    done = run_command([sys.executable, "prepare_movielens.py", "--zip", str(root / "ml-100k.zip"),
                        "--no_download", "--data_dir", str(tmp_path)],
                {**env, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_INDEX": "1"})
    assert done.returncode != 0
    assert "has 1,500 ratings, expected 100,000" in done.stderr + done.stdout
    assert not (tmp_path / "movielens" / "ml-100k").exists()


def test_train_inference_spotlights(workspace):
    root, env = workspace
    done = run_command([sys.executable, "train_movielens.py", "--epochs", "4", "--eval_every", "2",
                        "--device", "cpu"], env)
    assert done.returncode == 0, done.stderr
    assert "validation RMSE" in done.stdout
    checkpoint = load_checkpoint(root / "models" / "movielens" / "deepset.pt")
    assert checkpoint["epoch"] == 4

    output = root / "inference" / "movielens_val_deepset.npz"
    done = run_command([sys.executable, "inference_movielens.py", "--output", str(output)], env)
    assert done.returncode == 0, done.stderr
    results = InferenceResults.load(output)
    n_test = 300  # the first fifth of 1,500 ratings
    assert results.embeddings.shape == (n_test, 600)
    assert results.outputs.shape == (n_test, 5)
    np.testing.assert_allclose(results.outputs.sum(axis=1), 1.0, rtol=1e-5)
    # The loss is the cross-entropy of the stored distribution at the true rating.
    np.testing.assert_allclose(
        results.losses, -np.log(results.outputs[np.arange(n_test), results.labels - 1]),
        rtol=1e-4)
    # The embedding is the input of the last linear map: it gives the stored outputs.
    model = FactorizedAutoencoder()
    model.load_state_dict(checkpoint["model"])
    last = model.decoder[-1].linear
    logits = torch.as_tensor(results.embeddings) @ last.weight.T + last.bias
    np.testing.assert_allclose(logits.softmax(dim=1).detach().numpy(), results.outputs,
                               rtol=1e-4, atol=1e-6)
    assert {"user_id", "item_id", "rating", "age", "age_band", "gender", "occupation",
            "title", "genres", "predicted_rating"} <= set(results.metadata)
    assert results.metadata["genres"].shape == (n_test, len(GENRES))
    assert results.info["multi_hot"]["genres"] == list(GENRES)

    done = run_command(["bash", "spotlights_movielens.sh"],
                {**env, "NUM_STEPS": "40", "MIN_WEIGHT": "0.05", "DEVICE": "cpu"})
    assert done.returncode == 0, done.stderr
    spotlights = [SpotlightResults.load(root / "outputs" /
                                        f"movielens_val_deepset_0.05_spherical_{i}.npz")
                  for i in range(1, 6)]
    assert [s.settings["num_past_weights"] for s in spotlights] == [0, 1, 2, 3, 4]
    assert all(s.settings["learning_rate"] == 1e-2 and s.settings["spherical"]
               for s in spotlights)
    assert done.stdout.count("effective size") == 5  # the summary of each spotlight
    assert "attribute" in done.stdout and "genres" in done.stdout


def test_missing_inference_file_is_named(workspace, tmp_path):
    _, env = workspace
    done = run_command(["bash", "spotlights_movielens.sh"], {**env, "INFERENCE_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "movielens_val_deepset.npz not found; run the domain's inference script" in done.stderr


def test_inference_without_data_says_what_to_do(tmp_path):
    done = run_command([sys.executable, str(ROOT / "inference_movielens.py")],
                {"DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert done.returncode == 1
    assert "no MovieLens 100k folder here; run `python prepare_movielens.py`" in done.stderr

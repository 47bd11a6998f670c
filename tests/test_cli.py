"""spotlight/run_spotlight.py end to end: both ways of calling it, chaining, and errors."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import torch

from spotlight import InferenceResults, SpotlightResults
from spotlight.run_spotlight import main
from spotlight.synthetic import make_planted_clusters, precision_at_k
from tests.fixtures import run_command

QUICK = ["--spherical", "--learning_rate", "1e-2", "--lr_patience", "10", "--num_steps", "600",
         "--quiet"]


@pytest.fixture(scope="module")
def inference_file(tmp_path_factory):
    data = make_planted_clusters(n=1500, dim=12, n_planted=2, planted_fraction=0.02, seed=6)
    path = tmp_path_factory.mktemp("cli") / "synthetic.npz"
    InferenceResults(
        embeddings=data.embeddings, losses=data.losses,
        labels=data.cluster, outputs=np.eye(10)[data.cluster % 10],
        metadata={"region": data.cluster, "weight": np.full(1500, 2.0)},
    ).save(path)
    return path, data


def _run(*args: str):
    return run_command([sys.executable, *args])


def test_script_and_module_forms_chain(inference_file, tmp_path):
    path, data = inference_file
    first, second = tmp_path / "spot_1.npz", tmp_path / "spot_2"
    done = _run("spotlight/run_spotlight.py", "0.02", str(path), str(first), *QUICK)
    assert done.returncode == 0, done.stderr
    assert "spotlight of" in done.stdout and "mean loss inside" in done.stdout
    done = _run("-m", "spotlight.run_spotlight", "30", str(path), str(second), *QUICK,
                "--past_weights", str(tmp_path / "spot_1"))  # suffix optional
    assert done.returncode == 0, done.stderr
    results = [SpotlightResults.load(first), SpotlightResults.load(tmp_path / "spot_2.npz")]
    found = [max(range(2), key=lambda j: precision_at_k(r.weights, data.planted[j], 30))
             for r in results]
    assert sorted(found) == [0, 1]
    for result in results:
        assert max(precision_at_k(result.weights, region, 30) for region in data.planted) >= 0.9
    assert results[1].settings["past_weights"] == [str(tmp_path / "spot_1")]


def test_error_exits_nonzero_without_output(tmp_path):
    out = tmp_path / "never.npz"
    done = _run("spotlight/run_spotlight.py", "10", str(tmp_path / "missing.npz"), str(out))
    assert done.returncode == 1
    missing = tmp_path / "missing.npz"
    assert done.stderr.strip() == f"error: {missing}: inference results file not found"
    assert not out.exists()


def _bad_inference(tmp_path, name, **arrays):
    path = tmp_path / f"{name}.npz"
    base = {"embeddings": np.zeros((20, 3), np.float32), "losses": np.ones(20, np.float32)}
    np.savez(path, **{**base, **arrays})
    return path


def test_cli_errors(inference_file, tmp_path, capsys):
    path, _ = inference_file
    out = tmp_path / "out.npz"
    short = tmp_path / "short.npz"
    SpotlightResults(np.ones(10) / 10, np.ones(10), np.zeros(12), np.asarray(1.0), 10.0, 1.0,
                     {key: np.zeros(1) for key in SpotlightResults.HISTORY_KEYS}, {}).save(short)
    not_npz = tmp_path / "notes.npz"
    not_npz.write_text("hello")
    cases = [
        ([str(not_npz)], "notes.npz: not a readable .npz inference results file"),
        ([str(_bad_inference(tmp_path, "short_losses", losses=np.ones(19)))],
         "short_losses.npz: embeddings has 20 rows but losses has 19"),
        ([str(_bad_inference(tmp_path, "nan_losses", losses=np.full(20, np.nan)))],
         "nan_losses.npz: losses has 20 rows with NaN"),
        ([str(_bad_inference(tmp_path, "negative", losses=-np.ones(20)))],
         "negative.npz: losses must be non-negative"),
        ([str(path), "--past_weights", str(short)],
         "short.npz: has 10 weights but .* has 1500 examples"),
        ([str(path), "--top_components", "13"], r"top_components must be in .*\[1, 12\], got 13"),
        ([str(path), "--counts", "nothing"], "no array named 'nothing'"),
        ([str(path), "--counts", "outputs"], "--counts array 'outputs' must have shape"),
        ([str(_bad_inference(tmp_path, "plain")), "--label_coeff", "1"],
         "plain.npz: --label_coeff needs labels"),
    ]
    if not torch.cuda.is_available():
        cases.append(([str(path), "--device", "cuda"], "CUDA is not available"))
    for args, message in cases:
        code = main(["10", args[0], str(out), "--quiet", "--num_steps", "5", *args[1:]])
        err = capsys.readouterr().err
        assert code == 1, (args, err)
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert re.search(message, err), (message, err)
        assert not out.exists()
    assert main([str(1500), str(path), str(out), "--quiet"]) == 1
    assert "must be smaller than the number of examples" in capsys.readouterr().err


def test_counts_and_coefficients_from_the_file(inference_file, tmp_path, capsys):
    path, _ = inference_file
    out = tmp_path / "counted.npz"
    code = main(["0.02", str(path), str(out), "--quiet", "--num_steps", "50", "--spherical",
                 "--counts", "weight", "--label_coeff", "0.1", "--prediction_coeff", "0.1",
                 "--kernel", "quadratic", "--seed", "3"])
    assert code == 0, capsys.readouterr().err
    result = SpotlightResults.load(out)
    # counts of 2 double the total, so the 2% fraction is 60 counted examples
    assert result.settings["min_weight_count"] == pytest.approx(60.0)
    assert result.settings["kernel"] == "quadratic" and result.settings["counts"] is True


def test_importing_the_cli_keeps_the_api_function_callable(planted):
    import spotlight

    result = spotlight.run_spotlight(planted.embeddings, planted.losses, 40, num_steps=5,
                                     progress=False)
    assert isinstance(result, SpotlightResults)

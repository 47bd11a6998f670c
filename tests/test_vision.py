"""The image domains end to end on tiny fixtures in the real on-disk formats: training
(FairFace with resume and a one-process DDP run, X-ray), inference (FairFace, ImageNet,
X-ray) and their five-spotlight scripts."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from spotlight import InferenceResults, SpotlightResults
from spotlight.checkpoints import load_checkpoint
from spotlight.errors import SpotlightError
from spotlight.vision import FAIRFACE_RACES, FairFace, XrayCNN, fairface_model
from tests.fixtures import (
    ROOT,
    run_command,
    write_tiny_fairface,
    write_tiny_imagenet,
    write_tiny_xray,
)

SPOTLIGHT_ENV = {"NUM_STEPS": "30", "MIN_WEIGHT": "0.1", "DEVICE": "cpu"}




@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("vision")
    data = root / "data"
    write_tiny_fairface(data)
    write_tiny_xray(data)
    write_tiny_imagenet(data)
    env = {"DATA_DIR": str(data), "MODEL_DIR": str(root / "models"),
           "INFERENCE_DIR": str(root / "inference"), "OUTPUT_DIR": str(root / "outputs"),
           "PYTHON": sys.executable}
    return root, env


def _check_embedding_gives_outputs(results: InferenceResults, weight: torch.Tensor,
                                   bias: torch.Tensor) -> None:
    """The stored embedding is the final linear layer's input: it reproduces the stored
    probabilities, and the stored loss is their cross-entropy at the label."""
    logits = torch.as_tensor(results.embeddings) @ weight.T + bias
    np.testing.assert_allclose(logits.softmax(dim=1).numpy(), results.outputs, rtol=1e-3,
                               atol=1e-5)
    n = len(results)
    np.testing.assert_allclose(results.losses,
                               -np.log(results.outputs[np.arange(n), results.labels]),
                               rtol=1e-3, atol=1e-5)


def _check_five_spotlights(done, outputs: Path, stem: str) -> list[SpotlightResults]:
    assert done.returncode == 0, done.stderr
    spotlights = [SpotlightResults.load(outputs / f"{stem}_{i}.npz") for i in range(1, 6)]
    assert [s.settings["num_past_weights"] for s in spotlights] == [0, 1, 2, 3, 4]
    assert done.stdout.count("effective size") == 5
    return spotlights


def test_fairface_dataset_reads_the_csv(workspace):
    root, _ = workspace
    dataset = FairFace(root / "data" / "fairface", "val")
    assert len(dataset) == 21
    image, gender, index = dataset[0]
    assert image.size == (48, 48) and gender in (0, 1) and index == 0
    assert sorted(set(dataset.race.tolist())) == list(range(len(FAIRFACE_RACES)))


def test_fairface_csv_errors(tmp_path):
    folder = write_tiny_fairface(tmp_path, per_race=(1, 1))
    csv = folder / "fairface_label_val.csv"
    lines = csv.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[3], "Martian")
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpotlightError, match=r"fairface_label_val.csv: line 4: unknown race "
                                             r"'Martian'"):
        FairFace(folder, "val")
    csv.unlink()
    with pytest.raises(SpotlightError, match="label_val.csv: FairFace label file not found"):
        FairFace(folder, "val")
    with pytest.raises(SpotlightError, match="no FairFace folder here"):
        FairFace(tmp_path / "elsewhere", "val")


def test_fairface_train_resume_inference_spotlights(workspace):
    root, env = workspace
    common = ["--image_size", "32", "--batch_size", "8", "--workers", "0", "--device", "cpu"]
    done = run_command([sys.executable, "train_fairface.py", "--epochs", "1", *common], env)
    assert done.returncode == 0, done.stderr
    assert "validation by race" in done.stdout and "Southeast Asian" in done.stdout
    checkpoints = root / "models" / "fairface"
    assert load_checkpoint(checkpoints / "last.pt")["epoch"] == 1
    assert load_checkpoint(checkpoints / "best.pt")["epoch"] == 1

    done = run_command([sys.executable, "train_fairface.py", "--epochs", "2", "--resume",
                        *common], env)
    assert done.returncode == 0, done.stderr
    assert "resuming after epoch 1" in done.stdout
    last = load_checkpoint(checkpoints / "last.pt")
    assert last["epoch"] == 2 and [h["epoch"] for h in last["history"]] == [1, 2]
    assert "Black" in last["history"][1]["validation"]

    output = root / "inference" / "fairface_val_resnet.npz"
    done = run_command([sys.executable, "inference_fairface.py", "--image_size", "32",
                        "--workers", "0", "--output", str(output)], env)
    assert done.returncode == 0, done.stderr
    results = InferenceResults.load(output)
    assert results.embeddings.shape == (21, 512) and results.outputs.shape == (21, 2)
    model = fairface_model()
    model.load_state_dict(load_checkpoint(checkpoints / "best.pt")["model"])
    _check_embedding_gives_outputs(results, model.fc.weight.detach(), model.fc.bias.detach())
    dataset = FairFace(root / "data" / "fairface", "val")
    assert results.metadata["race"].tolist() == [FAIRFACE_RACES[r] for r in dataset.race]
    assert set(results.metadata) >= {"race", "age", "gender", "file"}

    done = run_command(["bash", "spotlights_fairface.sh"], {**env, **SPOTLIGHT_ENV})
    _check_five_spotlights(done, root / "outputs", "fairface_val_resnet_0.02_spherical")
    assert "race" in done.stdout


def test_fairface_ddp_one_process_gloo(workspace, tmp_path):
    _, env = workspace
    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_command([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1",
                        "--master_addr", "127.0.0.1", "--master_port", str(port),
                        "train_fairface.py", "--epochs", "1", "--image_size", "32",
                        "--batch_size", "8", "--workers", "0", "--checkpoint_dir", str(tmp_path)],
                       env)
    assert done.returncode == 0, done.stderr
    assert "1 process(es) on cpu" in done.stdout
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["epoch"] == 1
    assert not any(key.startswith("module.") for key in state["model"])  # unwrapped weights


def test_xray_train_inference_spotlights(workspace):
    root, env = workspace
    done = run_command([sys.executable, "train_xray.py", "--epochs", "1", "--batch_size", "8",
                        "--workers", "0", "--device", "cpu"], env)
    assert done.returncode == 0, done.stderr
    assert "PNEUMONIA" in done.stdout
    output = root / "inference" / "xray_train_resnet.npz"
    done = run_command([sys.executable, "inference_xray.py", "--workers", "0", "--output",
                        str(output)], env)
    assert done.returncode == 0, done.stderr
    results = InferenceResults.load(output)
    assert results.embeddings.shape == (12, 100)
    model = XrayCNN()
    model.load_state_dict(load_checkpoint(root / "models" / "xray" / "cnn.pt")["model"])
    _check_embedding_gives_outputs(results, model.classifier.weight.detach(),
                                   model.classifier.bias.detach())
    assert sorted(set(results.metadata["label_name"])) == ["NORMAL", "PNEUMONIA"]
    done = run_command(["bash", "spotlights_xray.sh"], {**env, **SPOTLIGHT_ENV})
    _check_five_spotlights(done, root / "outputs", "xray_train_resnet_0.02_spherical")


def test_imagenet_inference_spotlights(workspace):
    root, env = workspace
    torch.manual_seed(0)
    from torchvision.models import resnet18

    weights = root / "models" / "imagenet" / "resnet18.pth"
    weights.parent.mkdir(parents=True, exist_ok=True)
    model = resnet18(weights=None)
    torch.save(model.state_dict(), weights)
    output = root / "inference" / "imagenet_val_resnet.npz"
    done = run_command([sys.executable, "inference_imagenet.py", "--image_size", "64",
                        "--workers", "0", "--output", str(output)], env)
    assert done.returncode == 0, done.stderr
    results = InferenceResults.load(output)
    assert results.embeddings.shape == (9, 512) and results.outputs.shape == (9, 1000)
    _check_embedding_gives_outputs(results, model.fc.weight.detach(), model.fc.bias.detach())
    assert results.metadata["wnid"].tolist() == ["n01440764"] * 3 + ["n01443537"] * 3 + [
        "n01484850"] * 3
    assert results.metadata["class_name"][0] == "tench"
    done = run_command(["bash", "spotlights_imagenet.sh"],
                       {**env, **SPOTLIGHT_ENV, "MIN_WEIGHT": "2"})
    spotlights = _check_five_spotlights(done, root / "outputs",
                                        "imagenet_val_resnet_0.02_spherical")
    assert all(s.settings["barrier_scale"] == 10 for s in spotlights)


@pytest.mark.parametrize("script, message", [
    ("inference_fairface.py", "no FairFace folder here"),
    ("inference_xray.py", "no chest X-ray split folder here"),
    ("inference_imagenet.py", "no ImageNet folder here"),
    ("train_fairface.py", "no FairFace folder here"),
    ("train_xray.py", "no chest X-ray split folder here"),
])
def test_wrong_data_dir(script, message, tmp_path):
    done = run_command([sys.executable, str(ROOT / script)], {"DATA_DIR": str(tmp_path)},
                       cwd=tmp_path)
    assert done.returncode == 1
    assert message in done.stderr


def test_missing_checkpoint(workspace, tmp_path):
    _, env = workspace
    done = run_command([sys.executable, "inference_fairface.py", "--checkpoint",
                        str(tmp_path / "x.pt")], env)
    assert done.returncode == 1
    assert "x.pt: no checkpoint here; train one with train_fairface.py" in done.stderr
    done = run_command([sys.executable, "inference_imagenet.py"],
                       {**env, "MODEL_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "resnet18.pth: no ResNet-18 weights here" in done.stderr

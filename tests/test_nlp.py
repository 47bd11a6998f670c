"""The NLP domains end to end on tiny saved datasets and tiny DistilBERT models."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from spotlight import InferenceResults, SpotlightResults
from spotlight.nlp import best_spans, pretrained_folder, squad_features
from tests.fixtures import (
    run_command,
    squad_examples,
    text_tokenizer,
    write_tiny_text_domains,
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("nlp")
    write_tiny_text_domains(root / "data", root / "models")
    env = {"DATA_DIR": str(root / "data"), "MODEL_DIR": str(root / "models"),
           "INFERENCE_DIR": str(root / "inference"), "OUTPUT_DIR": str(root / "outputs"),
           "PYTHON": sys.executable, "NUM_STEPS": "30", "MIN_WEIGHT": "0.1", "DEVICE": "cpu",
           "HF_HUB_OFFLINE": "1"}
    return root, env


def test_answer_positions_on_hand_made_examples():
    rows = squad_examples()
    tokenizer = text_tokenizer(rows["context"] + rows["question"])
    features = squad_features(tokenizer, rows["question"][:2], rows["context"][:2],
                              rows["answers"][:2])
    ids = features["inputs"]["input_ids"]
    for row, expected in enumerate(["blue whale", "krill"]):
        start, end = features["start_positions"][row], features["end_positions"][row]
        assert tokenizer.decode(ids[row, start:end + 1]) == expected
        assert features["context_mask"][row, start] and features["context_mask"][row, end]
    # The answer cut off by truncation to 12 tokens counts as no answer, at [CLS].
    cut = squad_features(tokenizer, ["what does it eat ?"], [rows["context"][1]],
                         [rows["answers"][1]], max_length=12)
    assert cut["start_positions"].tolist() == [0] and cut["end_positions"].tolist() == [0]


def test_best_span_respects_order_and_context():
    start = torch.tensor([[9.0, 0.0, 1.0, 5.0, 0.0]])
    end = torch.tensor([[9.0, 4.0, 0.0, 0.0, 2.0]])
    context = torch.tensor([[False, True, True, True, True]])  # [CLS] is not context
    # Best allowed: start 3 (5.0) with end 4 (2.0); end 1 (4.0) would precede start 3.
    assert best_spans(start, end, context).tolist() == [[3, 4]]


def test_hub_cache_folder_is_resolved(workspace):
    root, _ = workspace
    found = pretrained_folder(root / "models" / "amazon", "amazon")
    assert found.name == "0123abcd" and (found / "config.json").is_file()


def test_amazon_inference_and_spotlights(workspace):
    root, env = workspace
    output = root / "inference" / "amazon_train_sst.npz"
    done = run_command([sys.executable, "inference_amazon.py", "--batch_size", "16",
                        "--limit", "30", "--output", str(output)], env)
    assert done.returncode == 0, done.stderr
    results = InferenceResults.load(output)
    assert results.embeddings.shape == (30, 32) and results.outputs.shape == (30, 2)
    np.testing.assert_allclose(results.losses,
                               -np.log(results.outputs[np.arange(30), results.labels]),
                               rtol=1e-4, atol=1e-6)
    # The embedding is the classifier head's input, computed here without hooks.
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = pretrained_folder(root / "models" / "amazon", "amazon")
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    text = str(results.metadata["text"][5])
    with torch.no_grad():
        hidden = model.distilbert(**tokenizer([text], return_tensors="pt")).last_hidden_state
        head_input = F.relu(model.pre_classifier(hidden[:, 0]))
    np.testing.assert_allclose(results.embeddings[5], head_input[0].numpy(), rtol=1e-4,
                               atol=1e-5)
    assert results.metadata["length"][5] == len(text)

    done = run_command(["bash", "spotlights_amazon.sh"], env)
    assert done.returncode == 0, done.stderr
    for i in range(1, 6):
        SpotlightResults.load(root / "outputs" / f"amazon_train_sst_0.05_spherical_{i}.npz")


def test_squad_inference_and_spotlights(workspace):
    root, env = workspace
    output = root / "inference" / "squad_val_bert_cls.npz"
    done = run_command([sys.executable, "inference_squad.py", "--batch_size", "4",
                        "--output", str(output)], env)
    assert done.returncode == 0, done.stderr
    assert "6 of 7 examples under 384 tokens" in done.stdout
    results = InferenceResults.load(output)
    assert len(results) == 6 and "too-long" not in results.metadata["id"].tolist()
    assert results.outputs.shape == (6, 2, 384)
    # The loss is the mean of start and end cross-entropy of the stored logits.
    logits = torch.as_tensor(results.outputs)
    positions = torch.as_tensor(results.labels)
    recomputed = (F.cross_entropy(logits[:, 0], positions[:, 0], reduction="none")
                  + F.cross_entropy(logits[:, 1], positions[:, 1], reduction="none")) / 2
    np.testing.assert_allclose(results.losses, recomputed.numpy(), rtol=1e-4, atol=1e-6)
    # The true span is the answer's tokens; the embedding is [CLS]'s input to qa_outputs.
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    model = AutoModelForQuestionAnswering.from_pretrained(root / "models" / "squad").eval()
    tokenizer = AutoTokenizer.from_pretrained(root / "models" / "squad")
    row = int(np.flatnonzero(results.metadata["answer"] == "blue whale")[0])
    encoded = tokenizer([str(results.metadata["question"][row])],
                        [str(results.metadata["context"][row])], return_tensors="pt")
    start, end = results.labels[row]
    assert tokenizer.decode(encoded["input_ids"][0, start:end + 1]) == "blue whale"
    with torch.no_grad():
        hidden = model.distilbert(**encoded).last_hidden_state
    np.testing.assert_allclose(results.embeddings[row], hidden[0, 0].numpy(), rtol=1e-4,
                               atol=1e-5)
    assert set(results.metadata["title"]) == {"Whales", "Volcanoes", "Chess"}

    done = run_command(["bash", "spotlights_squad.sh"], {**env, "MIN_WEIGHT": "2"})
    assert done.returncode == 0, done.stderr
    first = SpotlightResults.load(root / "outputs" / "squad_val_bert_cls_0.05_spherical_1.npz")
    assert first.settings["barrier_scale"] == 10


def test_missing_column_and_model(workspace, tmp_path):
    root, env = workspace
    from datasets import Dataset, DatasetDict

    DatasetDict({"train": Dataset.from_dict({"label": [0], "title": ["t"], "text": ["x"]})}
                ).save_to_disk(str(tmp_path / "amazon"))
    done = run_command([sys.executable, "inference_amazon.py"], {**env, "DATA_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "the Amazon polarity dataset has no 'content' column" in done.stderr
    done = run_command([sys.executable, "inference_squad.py"], {**env, "MODEL_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "no squad model folder here" in done.stderr
    done = run_command([sys.executable, "inference_squad.py"], {**env, "DATA_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "no saved SQuAD dataset here" in done.stderr

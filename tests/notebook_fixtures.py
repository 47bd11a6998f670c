"""Results files of all six domains, small and synthetic, in the layout the analysis
notebooks read: inference_results/<stem>.npz, spotlight_outputs/<stem>_{1..5}.npz, and the
image folders under DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spotlight import InferenceResults, run_spotlights
from spotlight.movielens import GENRES
from spotlight.vision import FAIRFACE_AGES, FAIRFACE_GENDERS, FAIRFACE_RACES
from tests.fixtures import (
    IMAGENET_CLASSES,
    write_tiny_fairface,
    write_tiny_imagenet,
    write_tiny_xray,
)

WORDS = ["battery", "charger", "book", "story", "great", "broken", "fast", "slow", "gift",
         "cheap"]


def _classifier(rng, n: int, n_classes: int):
    labels = rng.integers(0, n_classes, n)
    outputs = rng.dirichlet(np.ones(n_classes), size=n).astype(np.float32)
    losses = -np.log(outputs[np.arange(n), labels])
    return labels, outputs, losses


def _save(results_dir: Path, outputs_dir: Path, inference_stem: str, spotlight_stem: str,
          results: InferenceResults) -> None:
    results.save(results_dir / f"{inference_stem}.npz")
    spotlights = run_spotlights(results.embeddings, results.losses, 0.1, num_spotlights=5,
                                num_steps=30, progress=False, device="cpu")
    for number, spotlight in enumerate(spotlights, start=1):
        spotlight.save(outputs_dir / f"{spotlight_stem}_{number}.npz")


def write_all_domains(results_dir: Path, outputs_dir: Path, data_dir: Path,
                      seed: int = 0) -> None:
    rng = np.random.default_rng(seed)

    fairface = write_tiny_fairface(data_dir)
    n = 21  # the fixture's validation faces
    labels, outputs, losses = _classifier(rng, n, 2)
    _save(results_dir, outputs_dir, "fairface_val_resnet", "fairface_val_resnet_0.02_spherical",
          InferenceResults(rng.normal(size=(n, 8)), losses, outputs, labels, metadata={
              "race": rng.choice(FAIRFACE_RACES, n), "age": rng.choice(FAIRFACE_AGES, n),
              "gender": rng.choice(FAIRFACE_GENDERS, n),
              "file": [f"val/{i}.jpg" for i in range(1, n + 1)]},
              info={"classes": list(FAIRFACE_GENDERS)}))
    assert (fairface / "val" / "21.jpg").is_file()

    imagenet = write_tiny_imagenet(data_dir)
    files = sorted((imagenet / "val").glob("*/*.JPEG"))
    n = len(files)
    labels, outputs, losses = _classifier(rng, n, 1000)
    labels = np.repeat(np.arange(3), n // 3)
    losses = -np.log(outputs[np.arange(n), labels])
    names = [names[0] for names in IMAGENET_CLASSES.values()]
    _save(results_dir, outputs_dir, "imagenet_val_resnet", "imagenet_val_resnet_0.02_spherical",
          InferenceResults(rng.normal(size=(n, 8)), losses, outputs, labels, metadata={
              "wnid": np.asarray(list(IMAGENET_CLASSES))[labels],
              "class_name": np.asarray(names)[labels], "file": [str(f) for f in files]},
              info={"classes": names + [f"class {i}" for i in range(3, 1000)]}))

    xray = write_tiny_xray(data_dir)
    files = sorted((xray / "train").glob("*/*.jpeg"))
    n = len(files)
    labels = np.asarray([int("PNEUMONIA" in str(f)) for f in files])
    _, outputs, _ = _classifier(rng, n, 2)
    losses = -np.log(outputs[np.arange(n), labels])
    _save(results_dir, outputs_dir, "xray_train_resnet", "xray_train_resnet_0.02_spherical",
          InferenceResults(rng.normal(size=(n, 8)), losses, outputs, labels, metadata={
              "label_name": np.asarray(["NORMAL", "PNEUMONIA"])[labels],
              "file": [str(f) for f in files]}, info={"classes": ["NORMAL", "PNEUMONIA"]}))

    n = 200
    ratings = rng.integers(1, 6, n)
    outputs = rng.dirichlet(np.ones(5), size=n).astype(np.float32)
    _save(results_dir, outputs_dir, "movielens_val_deepset",
          "movielens_val_deepset_0.05_spherical",
          InferenceResults(rng.normal(size=(n, 8)), -np.log(outputs[np.arange(n), ratings - 1]),
                           outputs, ratings, metadata={
              "user_id": rng.integers(1, 50, n), "item_id": rng.integers(1, 80, n),
              "rating": ratings, "predicted_rating": outputs @ np.arange(1, 6),
              "age": rng.integers(10, 70, n), "age_band": rng.choice(["18-24", "25-34"], n),
              "gender": rng.choice(["M", "F"], n),
              "occupation": rng.choice(["student", "writer", "other"], n),
              "title": [f"Movie {i} (1995)" for i in rng.integers(1, 80, n)],
              "genres": rng.random((n, len(GENRES))) < 0.2},
              info={"multi_hot": {"genres": list(GENRES)}}))

    n = 100
    labels, outputs, losses = _classifier(rng, n, 2)
    texts = [" ".join(rng.choice(WORDS, 6)) for _ in range(n)]
    _save(results_dir, outputs_dir, "amazon_train_sst", "amazon_train_sst_0.05_spherical",
          InferenceResults(rng.normal(size=(n, 8)), losses, outputs, labels, metadata={
              "text": texts, "title": [f"review {i}" for i in range(n)],
              "length": [len(t) for t in texts], "index": np.arange(n)},
              info={"classes": ["negative", "positive"]}))

    n = 60
    titles = rng.choice(["Whales", "Chess", "Volcanoes"], n)
    questions = [f"what is the {w} of the {v} ?" for w, v in
                 zip(rng.choice(WORDS, n), rng.choice(WORDS, n), strict=True)]
    logits = rng.normal(size=(n, 2, 384)).astype(np.float32)
    spans = rng.integers(0, 384, size=(n, 2))
    _save(results_dir, outputs_dir, "squad_val_bert_cls", "squad_val_bert_cls_0.05_spherical",
          InferenceResults(rng.normal(size=(n, 8)), rng.exponential(size=n), logits, spans,
                           metadata={"id": [f"q{i}" for i in range(n)], "title": titles,
                                     "question": questions, "answer": rng.choice(WORDS, n),
                                     "predicted_answer": rng.choice(WORDS, n),
                                     "context": ["a context"] * n}))

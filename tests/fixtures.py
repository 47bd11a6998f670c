"""Small datasets written in the real datasets' on-disk formats, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np

from spotlight.movielens import GENRES

ROOT = Path(__file__).resolve().parent.parent


def run_command(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT,
                timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a project command as a user would, with extra environment variables."""
    return subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


OCCUPATIONS = ["student", "engineer", "writer", "artist", "retired", "other"]
TITLES = ["Misérables, Les (1995)", "Toy Story (1995)", "Cité des enfants perdus, La (1995)",
          "Heat (1995)", "Crumb (1994)", "Señorita Extraviada (2001)"]


def write_tiny_ml100k(folder: Path, n_users: int = 30, n_items: int = 40,
                      n_ratings: int = 600, seed: int = 0) -> Path:
    """GroupLens's u.data / u.user / u.item (latin-1) for a tiny random rating matrix whose
    ratings depend on user and item, so a model has something to learn. No split files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pairs = rng.choice(n_users * n_items, size=n_ratings, replace=False)
    users, items = pairs // n_items + 1, pairs % n_items + 1
    taste = rng.normal(size=n_users + 1)
    quality = rng.normal(size=n_items + 1)
    ratings = np.clip(np.round(3 + taste[users] + quality[items]), 1, 5).astype(int)
    timestamps = 874_000_000 + rng.integers(0, 10_000_000, n_ratings)
    (folder / "u.data").write_text(
        "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in zip(users, items, ratings, timestamps,
                                                              strict=True)),
        encoding="latin-1")
    (folder / "u.user").write_text(
        "".join(f"{u}|{rng.integers(7, 74)}|{'MF'[u % 2]}|{OCCUPATIONS[u % len(OCCUPATIONS)]}|"
                f"{10000 + u}\n" for u in range(1, n_users + 1)),
        encoding="latin-1")
    lines = []
    for i in range(1, n_items + 1):
        flags = ["0"] * len(GENRES)
        for genre in rng.choice(np.arange(1, len(GENRES)), size=rng.integers(1, 3), replace=False):
            flags[genre] = "1"
        title = TITLES[i % len(TITLES)] if i <= len(TITLES) else f"Movie {i} (1996)"
        lines.append(f"{i}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?{i}|"
                     + "|".join(flags) + "\n")
    (folder / "u.item").write_text("".join(lines), encoding="latin-1")
    return folder


def zip_folder(folder: Path, zip_path: Path, prefix: str = "ml-100k/") -> Path:
    """Zip a folder's files under ``prefix``, as GroupLens's ml-100k.zip is laid out."""
    with zipfile.ZipFile(zip_path, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, prefix + path.name)
    return zip_path


def write_recbole_wheel(folder: Path, wheel_path: Path) -> Path:
    """A stand-in for the recbole wheel: RecBole's atomic files (UTF-8, typed headers) made
    from a tiny GroupLens folder, at the path the real wheel holds them."""
    data = (folder / "u.data").read_text(encoding="latin-1").splitlines()
    users = (folder / "u.user").read_text(encoding="latin-1").splitlines()
    items = (folder / "u.item").read_text(encoding="latin-1").splitlines()
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float", *data]
    user = ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
    user += [line.replace("|", "\t") for line in users]
    item = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    for line in items:
        fields = line.split("|")
        title, year = fields[1].rsplit(" (", 1)
        genres = " ".join(g for g, flag in zip(GENRES, fields[5:], strict=True) if flag == "1")
        item.append(f"{fields[0]}\t{title}\t{year.rstrip(')')}\t{genres}")
    prefix = "recbole/dataset_example/ml-100k/ml-100k."
    with zipfile.ZipFile(wheel_path, "w") as archive:
        for suffix, lines in (("inter", inter), ("user", user), ("item", item)):
            archive.writestr(prefix + suffix, "\n".join(lines) + "\n")
    return wheel_path


# --------------------------------------------------------------------------- images


def _save_image(path: Path, array: np.ndarray, mode: str) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode=mode).save(path, quality=90)


def write_tiny_fairface(root: Path, per_race: tuple[int, int] = (4, 3), size: int = 48,
                        seed: int = 0) -> Path:
    """A FairFace folder: fairface_label_{train,val}.csv in the real format (file, age,
    gender, race, service_test) and JPEGs under train/ and val/. Women's images are
    brighter, so a model can learn the task a little."""
    from spotlight.vision import FAIRFACE_AGES, FAIRFACE_GENDERS, FAIRFACE_RACES

    rng = np.random.default_rng(seed)
    folder = root / "fairface"
    for split, count in zip(("train", "val"), per_race, strict=True):
        lines = ["file,age,gender,race,service_test"]
        number = 0
        for race in FAIRFACE_RACES:
            for _ in range(count):
                number += 1
                gender = FAIRFACE_GENDERS[number % 2]
                base = 150 if gender == "Female" else 90
                pixels = rng.normal(base, 30, size=(size, size, 3)).clip(0, 255)
                _save_image(folder / split / f"{number}.jpg", pixels, "RGB")
                age = FAIRFACE_AGES[number % len(FAIRFACE_AGES)]
                lines.append(f"{split}/{number}.jpg,{age},{gender},{race},{number % 3 == 0}")
        (folder / f"fairface_label_{split}.csv").write_text("\n".join(lines) + "\n")
    return folder


def write_tiny_xray(root: Path, per_class: int = 6, seed: int = 0) -> Path:
    """Kaggle's chest-xray-pneumonia layout with grayscale JPEGs of varying sizes."""
    rng = np.random.default_rng(seed)
    folder = root / "xray"
    for split in ("train", "test", "val"):
        for label, name in enumerate(("NORMAL", "PNEUMONIA")):
            for number in range(per_class):
                height, width = rng.integers(120, 260, size=2)
                pixels = rng.normal(80 + 60 * label, 25, size=(height, width)).clip(0, 255)
                prefix = "IM" if label == 0 else "person"
                _save_image(folder / split / name / f"{prefix}-{number:04d}.jpeg", pixels, "L")
    return folder


IMAGENET_CLASSES = {"n01440764": ("tench", "Tinca tinca"),
                    "n01443537": ("goldfish", "Carassius auratus"),
                    "n01484850": ("great white shark", "white shark")}


def write_tiny_imagenet(root: Path, per_class: int = 3, seed: int = 0) -> Path:
    """What torchvision.datasets.ImageNet reads once its devkit is parsed: meta.bin
    (torch.save of (wnid -> class names, validation wnids)) and val/<wnid>/*.JPEG."""
    import torch

    rng = np.random.default_rng(seed)
    folder = root / "imagenet"
    val_wnids = []
    number = 0
    for wnid in IMAGENET_CLASSES:
        for _ in range(per_class):
            number += 1
            val_wnids.append(wnid)
            pixels = rng.integers(0, 256, size=(40, 52, 3))
            _save_image(folder / "val" / wnid / f"ILSVRC2012_val_{number:08d}.JPEG", pixels, "RGB")
    torch.save((dict(IMAGENET_CLASSES), val_wnids), folder / "meta.bin")
    return folder


# --------------------------------------------------------------------------- text

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
AMAZON_WORDS = {1: ["great", "love", "excellent", "works", "perfect"],
                0: ["bad", "terrible", "broken", "waste", "awful"]}
TOPICS = {"Whales": ("the blue whale is the largest animal ever known . it lives in every "
                     "ocean and eats krill .", [("what is the largest animal ?", "blue whale"),
                                                ("what does it eat ?", "krill")]),
          "Volcanoes": ("a volcano erupts when magma rises to the surface . mount etna is in "
                        "sicily .", [("where is mount etna ?", "sicily"),
                                     ("what rises to the surface ?", "magma")]),
          "Chess": ("chess is played on a board of sixty four squares . the queen is the "
                    "strongest piece .", [("what is the strongest piece ?", "the queen"),
                                          ("how many squares ?", "sixty four")])}


def _vocabulary(texts) -> dict[str, int]:
    words = sorted({word for text in texts for word in text.lower().split()})
    return {token: index for index, token in enumerate(SPECIALS + words)}


def amazon_reviews(n: int = 40, seed: int = 0) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    rows = {"label": [], "title": [], "content": []}
    for i in range(n):
        label = i % 2
        words = list(rng.choice(AMAZON_WORDS[label], size=3)) + ["the", "product"]
        if i % 7 == 0:  # some reviews that say the opposite of their label
            words += list(rng.choice(AMAZON_WORDS[1 - label], size=2))
        rows["label"].append(label)
        rows["title"].append(f"review {i}")
        rows["content"].append(" ".join(words[j] for j in rng.permutation(len(words))))
    return rows


def squad_examples(long_context_words: int = 400) -> dict[str, list]:
    rows = {"id": [], "title": [], "context": [], "question": [], "answers": []}
    for title, (context, pairs) in TOPICS.items():
        for question, answer in pairs:
            rows["id"].append(f"{title.lower()}-{len(rows['id'])}")
            rows["title"].append(title)
            rows["context"].append(context)
            rows["question"].append(question)
            rows["answers"].append({"text": [answer], "answer_start": [context.index(answer)]})
    long_context = " ".join(["the queen is strong ."] * (long_context_words // 5))
    rows["id"].append("too-long")
    rows["title"].append("Chess")
    rows["context"].append(long_context)
    rows["question"].append("what is the strongest piece ?")
    rows["answers"].append({"text": ["the queen"], "answer_start": [0]})
    return rows


def text_tokenizer(texts):
    """A word-level BERT tokenizer over ``texts``' words (built with vocab=, which
    transformers 5 honours; vocab_file= is ignored there)."""
    from transformers import DistilBertTokenizer

    return DistilBertTokenizer(vocab=_vocabulary(texts))


def write_tiny_text_domains(data: Path, models: Path, seed: int = 0) -> None:
    """$DATA_DIR/amazon and /squad as saved DatasetDicts; $MODEL_DIR/amazon as a hub cache
    folder and $MODEL_DIR/squad as a save_pretrained folder, each a tiny random DistilBERT."""
    import torch
    from datasets import Dataset, DatasetDict
    from transformers import (
        DistilBertConfig,
        DistilBertForQuestionAnswering,
        DistilBertForSequenceClassification,
    )

    torch.manual_seed(seed)
    reviews, squad = amazon_reviews(seed=seed), squad_examples()
    DatasetDict({"train": Dataset.from_dict(reviews)}).save_to_disk(str(data / "amazon"))
    DatasetDict({"validation": Dataset.from_dict(squad)}).save_to_disk(str(data / "squad"))
    texts = reviews["content"] + squad["context"] + squad["question"]
    tokenizer = text_tokenizer(texts)
    config = DistilBertConfig(vocab_size=len(tokenizer.get_vocab()), dim=32, n_layers=1,
                              n_heads=2, hidden_dim=64, max_position_embeddings=512)
    snapshot = (models / "amazon" / "models--distilbert-base-uncased-finetuned-sst-2-english"
                / "snapshots" / "0123abcd")
    DistilBertForSequenceClassification(config).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    DistilBertForQuestionAnswering(config).save_pretrained(models / "squad")
    tokenizer.save_pretrained(models / "squad")

"""The image domains' datasets and models: FairFace, chest X-ray and ImageNet.

Every loader reads local files only and says which file or folder is missing when
$DATA_DIR is wrong. Datasets yield (image, label, index) so inference can save metadata
by index.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import Dataset
from torchvision import models, transforms

from spotlight.errors import SpotlightError

# --------------------------------------------------------------------------- FairFace

FAIRFACE_AGES = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69",
                 "more than 70")
FAIRFACE_GENDERS = ("Male", "Female")
FAIRFACE_RACES = ("White", "Black", "Indian", "East Asian", "Middle Eastern",
                  "Latino_Hispanic", "Southeast Asian")
FAIRFACE_MEAN = (0.4844, 0.3597, 0.3050)
FAIRFACE_STD = (0.2565, 0.2224, 0.2162)
FAIRFACE_COLUMNS = ("file", "age", "gender", "race", "service_test")


def fairface_transform(image_size: int = 224) -> transforms.Compose:
    """Resize (FairFace images are already 224x224) and normalise with FairFace's statistics."""
    return transforms.Compose([
        transforms.Resize((image_size, image_size)),
        transforms.ToTensor(),
        transforms.Normalize(FAIRFACE_MEAN, FAIRFACE_STD),
    ])


class FairFace(Dataset):
    """FairFace (padding=0.25 release): `fairface_label_{split}.csv` with columns
    file,age,gender,race,service_test; `file` is relative to the folder. The task is gender:
    yields (image, gender index, example index). ``age``, ``gender`` and ``race`` hold each
    example's class index, for metadata and per-race validation."""

    def __init__(self, root: Path, split: str = "train", transform=None) -> None:
        self.root = Path(root)
        self.transform = transform
        csv_path = self.root / f"fairface_label_{split}.csv"
        if not self.root.is_dir():
            raise SpotlightError(f"{self.root}: no FairFace folder here (set DATA_DIR to the "
                                 "folder holding fairface/)")
        if not csv_path.is_file():
            raise SpotlightError(f"{csv_path}: FairFace label file not found")
        with csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in FAIRFACE_COLUMNS[:4] if c not in (reader.fieldnames or [])]
            if missing:
                raise SpotlightError(f"{csv_path}: missing column(s) {', '.join(missing)}; "
                                     f"expected {','.join(FAIRFACE_COLUMNS)}")
            rows = list(reader)
        if not rows:
            raise SpotlightError(f"{csv_path}: holds no examples")
        self.files = [row["file"] for row in rows]
        columns = {}
        for column, classes in (("age", FAIRFACE_AGES), ("gender", FAIRFACE_GENDERS),
                                ("race", FAIRFACE_RACES)):
            lookup = {name: index for index, name in enumerate(classes)}
            indices = []
            for line, row in enumerate(rows, start=2):
                if row[column] not in lookup:
                    raise SpotlightError(f"{csv_path}: line {line}: unknown {column} "
                                         f"{row[column]!r}; expected one of {list(classes)}")
                indices.append(lookup[row[column]])
            columns[column] = np.asarray(indices)
        self.age, self.gender, self.race = columns["age"], columns["gender"], columns["race"]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        image = _open_image(self.root / self.files[index], "RGB")
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.gender[index]), index


def _open_image(path: Path, mode: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert(mode)
    except FileNotFoundError:
        raise SpotlightError(f"{path}: image not found") from None
    except OSError as error:
        raise SpotlightError(f"{path}: not a readable image ({error})") from None


def fairface_model() -> nn.Module:
    """ResNet-34 from scratch with a 512 -> 2 (gender) final layer."""
    return models.resnet34(weights=None, num_classes=len(FAIRFACE_GENDERS))


# --------------------------------------------------------------------------- chest X-ray

XRAY_CLASSES = ("NORMAL", "PNEUMONIA")
XRAY_SIZE = 150
XRAY_SUFFIXES = {".jpeg", ".jpg", ".png"}


def xray_transform(augment: bool = False) -> transforms.Compose:
    """Grayscale, resized to 150x150; with ``augment`` a random affine transform (10
    degrees, translate 0.1, scale 0.9-1.1), as in training."""
    steps = [transforms.Grayscale(1), transforms.Resize((XRAY_SIZE, XRAY_SIZE))]
    if augment:
        steps.append(transforms.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)))
    return transforms.Compose([*steps, transforms.ToTensor()])


class ChestXray(Dataset):
    """Kaggle's chest-xray-pneumonia layout: `{split}/NORMAL/*.jpeg` and
    `{split}/PNEUMONIA/*.jpeg`. Yields (image, label, index); NORMAL = 0, PNEUMONIA = 1."""

    def __init__(self, root: Path, split: str = "train", transform=None) -> None:
        self.root = Path(root)
        self.transform = transform
        folder = self.root / split
        if not folder.is_dir():
            raise SpotlightError(f"{folder}: no chest X-ray split folder here (expected "
                                 f"{split}/NORMAL and {split}/PNEUMONIA under $DATA_DIR/xray)")
        self.files: list[Path] = []
        labels = []
        for label, name in enumerate(XRAY_CLASSES):
            class_folder = folder / name
            if not class_folder.is_dir():
                raise SpotlightError(f"{class_folder}: missing class folder")
            found = sorted(p for p in class_folder.iterdir() if p.suffix.lower() in XRAY_SUFFIXES)
            self.files += found
            labels += [label] * len(found)
        if not self.files:
            raise SpotlightError(f"{folder}: holds no images")
        self.labels = np.asarray(labels)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        image = _open_image(self.files[index], "L")
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index]), index


class XrayCNN(nn.Module):
    """The paper's small X-ray classifier: conv 1->10 (3x3), ReLU, dropout 0.2, max-pool 2,
    flatten, linear 54,760 -> 100, ReLU, dropout 0.2, linear 100 -> 2 (150x150 inputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 10, kernel_size=3), nn.ReLU(), nn.Dropout(0.2), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.hidden = nn.Sequential(nn.Linear(10 * 74 * 74, 100), nn.ReLU(), nn.Dropout(0.2))
        self.classifier = nn.Linear(100, len(XRAY_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.hidden(self.features(x)))


# --------------------------------------------------------------------------- ImageNet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_transform(image_size: int = 224) -> transforms.Compose:
    return transforms.Compose([
        transforms.Resize((image_size, image_size)),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


class IndexedImageNet(Dataset):
    """torchvision.datasets.ImageNet (its `meta.bin` or devkit tarball, and `val/`),
    yielding (image, label, index)."""

    def __init__(self, root: Path, split: str = "val", transform=None) -> None:
        from torchvision.datasets import ImageNet

        root = Path(root)
        if not root.is_dir():
            raise SpotlightError(f"{root}: no ImageNet folder here (set DATA_DIR to the folder "
                                 "holding imagenet/)")
        try:
            self.dataset = ImageNet(str(root), split=split, transform=transform)
        except (RuntimeError, FileNotFoundError) as error:
            raise SpotlightError(
                f"{root}: torchvision.datasets.ImageNet cannot read it: it needs meta.bin or "
                f"ILSVRC2012_devkit_t12.tar.gz, and {split}/ or its tarball "
                f"({str(error).splitlines()[0]})") from None
        self.wnids = self.dataset.wnids
        self.class_names = [names[0] for names in self.dataset.classes]
        self.files = [Path(path) for path, _ in self.dataset.samples]
        self.labels = np.asarray(self.dataset.targets)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        image, label = self.dataset[index]
        return image, label, index


def imagenet_model() -> nn.Module:
    """ResNet-18, weights loaded by the caller from a local torchvision state dict."""
    return models.resnet18(weights=None)

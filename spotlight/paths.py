"""Where data and models live: $DATA_DIR and $MODEL_DIR, as in the paper's README."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """$DATA_DIR, or ./data when it is not set."""
    return Path(os.environ.get("DATA_DIR", "data"))


def model_dir() -> Path:
    """$MODEL_DIR, or ./models when it is not set."""
    return Path(os.environ.get("MODEL_DIR", "models"))

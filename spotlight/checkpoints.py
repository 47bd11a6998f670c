"""Model checkpoints: written atomically, read back without unpickling arbitrary objects."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from spotlight.errors import SpotlightError
from spotlight.results import write_atomic


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """torch.save ``state`` (tensors, numbers, strings, lists, dicts) via a temporary file."""
    return write_atomic(Path(path), lambda handle: torch.save(state, handle))


def load_checkpoint(path: str | os.PathLike, hint: str = "",
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary code); clear errors."""
    path = Path(path)
    if not path.is_file():
        raise SpotlightError(f"{path}: no checkpoint here" + (f"; {hint}" if hint else ""))
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for a bad file
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SpotlightError(f"{path}: not a readable checkpoint ({message})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise SpotlightError(f"{path}: not a checkpoint of this project (no 'model' entry)")
    return state

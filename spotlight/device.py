"""Choosing the torch device: 'auto' means CUDA when present, else CPU."""

from __future__ import annotations

import torch

from spotlight.errors import SpotlightError


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """Turn 'auto', 'cpu', 'cuda' or 'cuda:N' into a device that exists, or raise."""
    if name is None or str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as error:
        raise SpotlightError(f"unknown device {name!r} ({error}); use auto, cpu or cuda") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SpotlightError(
                f"device {str(name)!r} requested but CUDA is not available on this machine; "
                "use --device cpu (or auto)"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SpotlightError(
                f"device {str(name)!r} requested but only {torch.cuda.device_count()} CUDA "
                "device(s) exist"
            )
    elif device.type != "cpu":
        raise SpotlightError(f"device {str(name)!r} is not supported; use auto, cpu or cuda")
    return device

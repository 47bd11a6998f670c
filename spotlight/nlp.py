"""The NLP domains (Amazon polarity, SQuAD): offline loading of saved datasets and Hugging
Face model folders, and SQuAD's answer-position mapping."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from spotlight.errors import SpotlightError

SQUAD_MAX_TOKENS = 384


def pretrained_folder(folder: Path, what: str) -> Path:
    """A `save_pretrained` folder, or the snapshot inside a hub cache folder
    (`models--org--name/snapshots/<revision>/`), holding config.json."""
    folder = Path(folder)
    if (folder / "config.json").is_file():
        return folder
    snapshots = sorted(folder.glob("**/snapshots/*/config.json"),
                       key=lambda path: path.stat().st_mtime)
    if snapshots:
        return snapshots[-1].parent
    if not folder.exists():
        raise SpotlightError(f"{folder}: no {what} model folder here (set MODEL_DIR, or save "
                             "the model there once while online; see README)")
    raise SpotlightError(f"{folder}: holds no config.json, neither a save_pretrained folder nor "
                         f"a hub cache folder of the {what} model")


def load_model_and_tokenizer(folder: Path, model_class: Any, what: str):
    """Model and tokenizer from a local folder only (``local_files_only=True``)."""
    from transformers import AutoTokenizer

    folder = pretrained_folder(folder, what)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = model_class.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as error:
        raise SpotlightError(f"{folder}: cannot load the {what} model or tokenizer "
                             f"({str(error).splitlines()[0]})") from None
    return model, tokenizer


def load_saved_split(folder: Path, split: str, columns: Sequence[str], what: str):
    """One split of a `DatasetDict` saved with `save_to_disk`, checked for ``columns``."""
    from datasets import load_from_disk

    folder = Path(folder)
    if not folder.is_dir():
        raise SpotlightError(f"{folder}: no saved {what} dataset here (set DATA_DIR, or save it "
                             "there once while online; see README)")
    try:
        saved = load_from_disk(str(folder))
    except (FileNotFoundError, ValueError, OSError) as error:
        raise SpotlightError(f"{folder}: not a dataset saved with save_to_disk "
                             f"({str(error).splitlines()[0]})") from None
    if hasattr(saved, "keys"):
        if split not in saved:
            raise SpotlightError(f"{folder}: has no {split!r} split (it has {list(saved)})")
        saved = saved[split]
    missing = [column for column in columns if column not in saved.column_names]
    if missing:
        raise SpotlightError(f"{folder}: the {what} dataset has no {', '.join(map(repr, missing))} "
                             f"column (it has {saved.column_names})")
    return saved


def squad_features(tokenizer: Any, questions: Sequence[str], contexts: Sequence[str],
                   answers: Sequence[dict], max_length: int = SQUAD_MAX_TOKENS) -> dict:
    """Tokenise question + context (the context truncated to ``max_length``) and map each
    example's first answer from characters to token positions. An answer that does not lie
    wholly inside the context tokens is marked no-answer: start = end = 0 ([CLS])."""
    encoded = tokenizer(list(questions), list(contexts), truncation="only_second",
                        max_length=max_length, padding=True, return_offsets_mapping=True,
                        return_tensors="pt")
    starts, ends = [], []
    for row, answer in enumerate(answers):
        sequence_ids = encoded.sequence_ids(row)
        offsets = encoded["offset_mapping"][row].tolist()
        start_token = end_token = 0
        if len(answer["text"]):
            char_start = int(answer["answer_start"][0])
            char_end = char_start + len(answer["text"][0])
            context = [i for i, sid in enumerate(sequence_ids) if sid == 1]
            if context and offsets[context[0]][0] <= char_start and \
                    offsets[context[-1]][1] >= char_end:
                start_token = next(i for i in context if offsets[i][1] > char_start)
                end_token = next(i for i in reversed(context) if offsets[i][0] < char_end)
        starts.append(start_token)
        ends.append(end_token)
    context_mask = torch.tensor([[sid == 1 for sid in encoded.sequence_ids(row)]
                                 for row in range(len(answers))])
    encoded.pop("offset_mapping")
    return {"inputs": encoded, "start_positions": torch.tensor(starts),
            "end_positions": torch.tensor(ends), "context_mask": context_mask}


def best_spans(start_logits: torch.Tensor, end_logits: torch.Tensor,
               context_mask: torch.Tensor, max_answer_tokens: int = 30) -> torch.Tensor:
    """(batch, 2) start and end token of the highest-scoring span inside the context with
    start <= end < start + max_answer_tokens."""
    length = start_logits.shape[1]
    scores = start_logits.unsqueeze(2) + end_logits.unsqueeze(1)
    start = torch.arange(length, device=start_logits.device).unsqueeze(1)
    end = start.T
    allowed = (end >= start) & (end - start < max_answer_tokens)  # [start, end]
    allowed = allowed.unsqueeze(0) & context_mask.unsqueeze(2) & context_mask.unsqueeze(1)
    best = scores.masked_fill(~allowed, float("-inf")).flatten(1).argmax(dim=1)
    return torch.stack((best // length, best % length), dim=1)

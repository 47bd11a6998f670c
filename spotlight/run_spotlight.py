"""Command-line spotlight: read an inference results file, optimise one spotlight, save it.

    python -m spotlight.run_spotlight 0.02 inference_results/x.npz spotlight_outputs/x_1.npz \
        --spherical --learning_rate 1e-2 --lr_patience 10 --num_steps 5000

The flags are the published ones (same names and defaults), plus --kernel, --seed,
--init_mean and --dtype. Works as `python spotlight/run_spotlight.py` too.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a file: import from the repository root rather than from this folder, whose
    # module names would otherwise shadow top-level packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np
import torch

from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.optimizer import KERNELS, run_spotlight
from spotlight.results import InferenceResults, SpotlightResults


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Optimise a spotlight: a region of embedding space where the loss is high.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("min_weight", type=float,
                        help="minimum spotlight size: a count, or a fraction of N if in (0, 1)")
    parser.add_argument("inference_path", help="inference results .npz (embeddings, losses)")
    parser.add_argument("output_path", help="where to write the spotlight results .npz")
    parser.add_argument("--spherical", action="store_true",
                        help="spherical precision tau*I (O(N D) per step); default: full matrix")
    parser.add_argument("--kernel", choices=KERNELS, default="gaussian")
    parser.add_argument("--barrier_min_x", type=float, default=None,
                        help="final barrier width (default: 0.05 * min_weight)")
    parser.add_argument("--barrier_scale", type=float, default=1.0)
    parser.add_argument("--num_steps", type=int, default=1000)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--lr_patience", type=int, default=20)
    parser.add_argument("--lr_factor", type=float, default=0.5)
    parser.add_argument("--print_every", type=int, default=20,
                        help="steps between progress-bar status updates")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--past_weights", nargs="*", default=[], metavar="SPOTLIGHT_NPZ",
                        help="earlier spotlights' results files; this one looks elsewhere")
    parser.add_argument("--top_components", type=int, default=None,
                        help="optimise in the first K principal components")
    parser.add_argument("--flip_objective", action="store_true",
                        help="find the lowest-loss region instead")
    parser.add_argument("--counts", default=None, metavar="ARRAY",
                        help="name of an (N,) array in the inference file: example multiplicities")
    parser.add_argument("--label_coeff", type=float, default=0.0,
                        help="penalise the entropy (bits) of the labels in the spotlight")
    parser.add_argument("--prediction_coeff", type=float, default=0.0,
                        help="penalise the entropy (bits) of the predicted classes")
    parser.add_argument("--init_mean", choices=("zero", "centroid"), default="zero",
                        help="start the spotlight at the origin (paper) or the data's mean")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _existing_npz(path: str) -> str:
    """Accept a results path given with or without its .npz suffix."""
    if not Path(path).exists() and Path(path + ".npz").exists():
        return path + ".npz"
    return path


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        device = resolve_device(args.device)
        inference = InferenceResults.load(args.inference_path)
        n = len(inference)
        past = []
        for past_path in map(_existing_npz, args.past_weights):
            earlier = SpotlightResults.load(past_path)
            if len(earlier) != n:
                raise SpotlightError(
                    f"{past_path}: has {len(earlier)} weights but {args.inference_path} has "
                    f"{n} examples; it is a spotlight of another dataset"
                )
            past.append(earlier)
        counts = None
        if args.counts is not None:
            counts = np.asarray(inference.array(args.counts), dtype=np.float64).squeeze()
            if counts.shape != (n,):
                raise SpotlightError(
                    f"{args.inference_path}: --counts array {args.counts!r} must have shape "
                    f"({n},), got {counts.shape}"
                )
        if args.label_coeff and inference.labels is None:
            raise SpotlightError(f"{args.inference_path}: --label_coeff needs labels; it has none")
        if args.prediction_coeff and inference.outputs is None:
            raise SpotlightError(
                f"{args.inference_path}: --prediction_coeff needs outputs; it has none"
            )
        try:
            results = run_spotlight(
                inference.embeddings, inference.losses, args.min_weight,
                kernel=args.kernel, spherical=args.spherical, num_steps=args.num_steps,
                learning_rate=args.learning_rate, lr_patience=args.lr_patience,
                lr_factor=args.lr_factor, barrier_min_x=args.barrier_min_x,
                barrier_scale=args.barrier_scale, past_weights=past,
                top_components=args.top_components, flip_objective=args.flip_objective,
                counts=counts, labels=inference.labels, label_coeff=args.label_coeff,
                predictions=inference.outputs, prediction_coeff=args.prediction_coeff,
                init_mean=args.init_mean, device=device, dtype=getattr(torch, args.dtype),
                seed=args.seed, progress=not args.quiet, print_every=args.print_every,
            )
        except SpotlightError as error:  # about this file's data: say which file
            raise SpotlightError(f"{args.inference_path}: {error}") from None
        results.settings["inference_path"] = str(args.inference_path)
        results.settings["past_weights"] = list(args.past_weights)
        path = results.save(args.output_path)
    except SpotlightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error.filename or args.output_path}: {error.strerror}", file=sys.stderr)
        return 1
    size = results.settings["min_weight_count"]
    overall = float(np.average(inference.losses, weights=counts))
    print(
        f"{path}: spotlight of {results.total_weight:.1f} examples (min {size:.1f}), "
        f"mean loss inside {results.weighted_loss:.4f} vs {overall:.4f} overall"
    )
    return 0


class _CallableModule(types.ModuleType):
    """Importing this module rebinds the package attribute `spotlight.run_spotlight` (the
    API function) to the module; calling the module runs the function, so both keep working."""

    def __call__(self, *args: Any, **kwargs: Any) -> SpotlightResults:
        return run_spotlight(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
else:
    sys.modules[__name__].__class__ = _CallableModule

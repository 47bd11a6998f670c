"""Print what each spotlight found: its size, the loss inside it, and the attributes most
over-represented in it compared with the whole dataset.

    python -m spotlight.summarize inference_results/movielens_val_deepset.npz \
        spotlight_outputs/movielens_val_deepset_0.05_spherical_{1..5}.npz
"""

from __future__ import annotations

import argparse
import sys

from spotlight.analysis import summarize_spotlight
from spotlight.errors import SpotlightError
from spotlight.results import InferenceResults, SpotlightResults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inference_path")
    parser.add_argument("spotlight_paths", nargs="+")
    parser.add_argument("--top", type=int, default=2, help="values shown per attribute")
    args = parser.parse_args(argv)
    try:
        inference = InferenceResults.load(args.inference_path)
        spotlights = [SpotlightResults.load(path) for path in args.spotlight_paths]
        for path, spotlight in zip(args.spotlight_paths, spotlights, strict=True):
            if len(spotlight) != len(inference):
                raise SpotlightError(f"{path}: has {len(spotlight)} weights but "
                                     f"{args.inference_path} has {len(inference)} examples")
    except SpotlightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    metadata = dict(inference.metadata)
    multi_hot = inference.info.get("multi_hot", {})
    for number, (path, spotlight) in enumerate(zip(args.spotlight_paths, spotlights,
                                                   strict=True), start=1):
        print(f"\nSpotlight {number} ({path}): kernel mass {spotlight.total_weight:,.1f}")
        print(summarize_spotlight(spotlight.weights, inference.losses, metadata, multi_hot,
                                  top_per_attribute=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())

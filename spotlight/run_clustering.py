"""Command-line clustering baseline: a Gaussian mixture over an inference file's embeddings.

    python -m spotlight.run_clustering inference_results/x.npz clustering_outputs/x.npz \
        --components 50

Saves each example's cluster (`assignments`), each cluster's mean loss and size, and the
clusters ordered from highest mean loss down, as an .npz read with allow_pickle=False.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # as in run_spotlight.py

import numpy as np

from spotlight.clustering import fit_clusters
from spotlight.errors import SpotlightError
from spotlight.results import InferenceResults, save_npz_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inference_path")
    parser.add_argument("output_path")
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--covariance_type", default="diag",
                        choices=("full", "tied", "diag", "spherical"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        inference = InferenceResults.load(args.inference_path)
        if not np.all(np.isfinite(inference.embeddings)):
            raise SpotlightError(f"{args.inference_path}: embeddings hold NaN or inf")
        assignments, cluster_loss = fit_clusters(inference.embeddings, inference.losses,
                                                 args.components, args.seed,
                                                 args.covariance_type)
        sizes = np.bincount(assignments, minlength=args.components)
        order = np.argsort(-np.nan_to_num(cluster_loss, nan=-np.inf), kind="stable")
        path = save_npz_atomic(args.output_path, {
            "assignments": assignments, "cluster_loss": cluster_loss, "cluster_size": sizes,
            "clusters_by_loss": order,
            "settings": np.asarray(json.dumps({**vars(args), "n": len(inference)})),
        })
    except (SpotlightError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    top = order[0]
    print(f"{path}: {args.components} clusters; highest mean loss {cluster_loss[top]:.4f} "
          f"(cluster {top}, {sizes[top]} examples) vs {inference.losses.mean():.4f} overall")
    return 0


if __name__ == "__main__":
    sys.exit(main())

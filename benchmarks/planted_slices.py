"""Does the spotlight find planted slices? Precision@k and AUROC against baselines.

    python benchmarks/planted_slices.py                      # digits, full grid
    python benchmarks/planted_slices.py --dataset fashion-mnist
    python benchmarks/planted_slices.py --quick              # the small CI version

For each slice kind, strength alpha and seed: plant one slice in the training data (see
spotlight/planted.py), train a small MLP, run inference on the test split, and let every
method rank the test examples. Writes per-setting rows and a summary (method x slice kind)
as CSV to --output_dir, with a bar chart, and prints the summary.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spotlight import SpotlightError, run_spotlight
from spotlight.planted import (
    SLICE_KINDS,
    auroc,
    cluster_scores,
    load_digits_dataset,
    load_fashion_mnist,
    plant,
    train_and_infer,
)
from spotlight.synthetic import precision_at_k

ALPHAS = {"rare": (0.01, 0.05, 0.1), "noisy_label": (0.1, 0.2, 0.3),
          "correlation": (0.2, 0.5, 0.8)}
QUICK_ALPHAS = {"rare": (0.05,), "noisy_label": (0.3,), "correlation": (0.8,)}
METHODS = ("spotlight (gaussian)", "spotlight (quadratic)", "spotlight (best of 5)",
           "GMM clusters (50)", "example loss")


def rank_all(found: dict[str, np.ndarray], steps: int, components: int,
             seed: int) -> dict[str, list[np.ndarray]]:
    """Each method's ranking score(s) of the test examples; several = pick the best; none =
    the method failed (a spotlight whose kernel mass fell to zero)."""
    embeddings, losses = found["embeddings"], found["losses"]
    options = {"num_steps": steps, "progress": False, "device": "cpu", "seed": seed}
    size = 0.05
    chained = []
    for _ in range(5):
        try:
            chained.append(run_spotlight(embeddings, losses, size, past_weights=chained,
                                         **options))
        except SpotlightError:
            break
    try:
        quadratic = [run_spotlight(embeddings, losses, size, kernel="quadratic", **options)]
    except SpotlightError:
        quadratic = []
    return {
        "spotlight (gaussian)": [s.weights for s in chained[:1]],
        "spotlight (quadratic)": [s.weights for s in quadratic],
        "spotlight (best of 5)": [s.weights for s in chained],
        f"GMM clusters ({components})": [cluster_scores(embeddings, losses, components, seed)],
        "example loss": [losses],
    }


def score(rankings: list[np.ndarray], relevant: np.ndarray) -> dict[str, float]:
    """Metrics of the ranking with the best precision@10 among ``rankings``. A method that
    failed scores as finding nothing: precision 0, AUROC 0.5."""
    if not rankings:
        return {"precision@10": 0.0, "precision@25": 0.0, "auroc": 0.5, "failed": True}
    rows = [{"precision@10": precision_at_k(r, relevant, 10),
             "precision@25": precision_at_k(r, relevant, 25), "auroc": auroc(r, relevant),
             "failed": False}
            for r in rankings]
    return max(rows, key=lambda row: (row["precision@10"], row["precision@25"]))


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    grouped = rows.groupby(["method", "kind"])
    summary = grouped.agg(settings=("precision@10", "size"),
                          p10_mean=("precision@10", "mean"), p10_std=("precision@10", "std"),
                          p25_mean=("precision@25", "mean"), auroc_mean=("auroc", "mean"))
    summary["share_p10_ge_0.8"] = grouped["precision@10"].apply(
        lambda p: float((p >= 0.8).mean()))
    summary["failed"] = grouped["failed"].sum().astype(int)
    return summary.round(3).reset_index()


def plot(summary: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    table = summary.pivot(index="kind", columns="method", values="p10_mean")
    errors = summary.pivot(index="kind", columns="method", values="p10_std").fillna(0)
    axis = table.plot.bar(yerr=errors, figsize=(9, 4), rot=0, capsize=2)
    axis.set_ylabel("mean precision@10")
    axis.set_ylim(0, 1)
    axis.set_title(title)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    plt.tight_layout()
    plt.savefig(path, dpi=100)
    plt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("digits", "fashion-mnist"), default="digits")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per (kind, alpha)")
    parser.add_argument("--steps", type=int, default=5000, help="spotlight steps")
    parser.add_argument("--epochs", type=int, default=None, help="default: by dataset")
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--quick", action="store_true",
                        help="one alpha per kind, 2 seeds, 1000 steps (the CI version)")
    parser.add_argument("--output_dir", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    # Small models and problems: one thread is several times faster than two here (thread
    # start-up costs more than the work), and runs repeat exactly.
    torch.set_num_threads(1)
    alphas, seeds, steps = ALPHAS, args.seeds, args.steps
    if args.quick:
        alphas, seeds, steps = QUICK_ALPHAS, 2, 1000
    dataset = load_digits_dataset() if args.dataset == "digits" else load_fashion_mnist()
    epochs = args.epochs or (60 if args.dataset == "digits" else 5)

    rows, start = [], time.time()
    for kind in SLICE_KINDS:
        for alpha in alphas[kind]:
            for seed in range(seeds):
                rng = np.random.default_rng(1000 * seed + 7)
                subclass = int(rng.integers(len(dataset.class_names)))
                task = plant(dataset, kind, alpha, subclass, rng)
                found = train_and_infer(task, epochs, seed)
                correct = found["outputs"].argmax(axis=1) == found["labels"]
                relevant = task.test_slice[found["indices"]]
                for method, rankings in rank_all(found, steps, args.components, seed).items():
                    rows.append({"dataset": dataset.name, "kind": kind, "alpha": alpha,
                                 "seed": seed, "subclass": task.subclass, "method": method,
                                 "slice_size": int(relevant.sum()), "n_test": len(relevant),
                                 "accuracy": float(correct.mean()),
                                 "slice_accuracy": float(correct[relevant].mean()),
                                 **score(rankings, relevant)})
                print(f"{kind} alpha={alpha} seed={seed}: slice {int(relevant.sum())} of "
                      f"{len(relevant)}, accuracy {correct.mean():.3f} overall, "
                      f"{correct[relevant].mean():.3f} in the slice "
                      f"({time.time() - start:.0f} s)", flush=True)
    frame = pd.DataFrame(rows)
    summary = summarize(frame)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = f"planted_{dataset.name}" + ("_quick" if args.quick else "")
    frame.to_csv(args.output_dir / f"{stem}_settings.csv", index=False)
    summary.to_csv(args.output_dir / f"{stem}_summary.csv", index=False)
    plot(summary, args.output_dir / f"{stem}.png",
         f"{dataset.name}: planted slices, {len(frame) // len(METHODS)} settings")
    print(f"\n{dataset.name}: {len(frame) // len(METHODS)} settings, {steps} spotlight steps, "
          f"{time.time() - start:.0f} s")
    print(summary.to_markdown(index=False) if _has_tabulate() else summary.to_string(index=False))
    print(f"\nwrote {args.output_dir / stem}_settings.csv, _summary.csv and .png")


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()

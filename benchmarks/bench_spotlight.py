"""Per-step time of our spotlight optimiser against the published per-step math.

Both run in this process, on the same synthetic embeddings, with the same settings
(spherical, gaussian, lr 1e-2, patience 10) and the same number of steps. The published
formulation (spotlight/reference.py) builds the D x D precision matrix every step and
differentiates through it with autograd; ours uses the closed-form O(N D) gradient.

    python benchmarks/bench_spotlight.py                       # 10k and 50k x 512, 1 thread
    python benchmarks/bench_spotlight.py --sizes 50000x512 --steps 50 --full_run
"""

from __future__ import annotations

import argparse
import time

import torch
from threadpoolctl import threadpool_limits

from spotlight import run_spotlight
from spotlight.reference import run_reference_spotlight
from spotlight.results import top_examples
from spotlight.synthetic import make_planted_clusters


def parse_size(text: str) -> tuple[int, int]:
    n, dim = text.lower().split("x")
    return int(n), int(dim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000x512,50000x512", help="comma-separated NxD")
    parser.add_argument("--steps", type=int, default=100, help="steps for each optimiser")
    parser.add_argument("--fraction", type=float, default=0.02, help="min_weight as fraction")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--full_run", action="store_true",
                        help="also time one full 5000-step spotlight of ours at each size")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # numpy's BLAS (used by our CPU path) keeps its own thread pool: hold it to the same count.
    threadpool_limits(args.threads)

    rows = []
    for n, dim in map(parse_size, args.sizes.split(",")):
        data = make_planted_clusters(n=n, dim=dim, planted_fraction=args.fraction,
                                     spread=1.0, cluster_std=0.5, seed=0)
        size = args.fraction * n
        k = int(size)
        settings = {"num_steps": args.steps, "learning_rate": 1e-2, "lr_patience": 10}

        run_spotlight(data.embeddings[:1000], data.losses[:1000], 0.1, num_steps=5,
                      progress=False)  # warm up torch's kernels outside the timing
        ours = run_spotlight(data.embeddings, data.losses, size, spherical=True,
                             device="cpu", progress=False, **settings)
        ours_step = ours.settings["seconds"] / args.steps  # the step loop, without set-up

        start = time.perf_counter()  # set-up included: negligible beside its steps
        reference = run_reference_spotlight(data.embeddings, data.losses, size, **settings)
        reference_step = (time.perf_counter() - start) / args.steps

        ours_top = set(ours.top_examples(k).tolist())
        reference_top = set(top_examples(reference["weights"], k).tolist())
        objective_gap = abs(ours.history["objective"][-1] - reference["objective"][-1])
        full_run = ""
        if args.full_run:
            start = time.perf_counter()
            run_spotlight(data.embeddings, data.losses, size, spherical=True, device="cpu",
                          progress=False, num_steps=5000)
            full_run = f"{time.perf_counter() - start:.1f} s"  # set-up included
        rows.append((
            f"{n:,} x {dim}", f"{reference_step * 1e3:.1f}", f"{ours_step * 1e3:.2f}",
            f"{reference_step / ours_step:.0f}x",
            f"{ours.history['objective'][-1]:.5f} / {reference['objective'][-1]:.5f}",
            f"{objective_gap:.1e}", f"{len(ours_top & reference_top)}/{k}", full_run,
        ))

    header = ("N x D", "published ms/step", "ours ms/step", "speed-up",
              "final objective ours / published", "|gap|", "same top-k", "ours, 5000 steps")
    print(f"float32, spherical gaussian spotlight, {args.steps} steps each, "
          f"{torch.get_num_threads()} thread(s), torch {torch.__version__}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

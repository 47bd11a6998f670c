#!/usr/bin/env bash
# The main job from a fresh clone, on the CPU: install, put MovieLens 100k under $DATA_DIR,
# run the shipped recommender on u1.test, the paper's five spotlights, and their summary.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"
"$PYTHON" -m pip install --quiet -r requirements.txt
"$PYTHON" prepare_movielens.py
"$PYTHON" inference_movielens.py
PYTHON="$PYTHON" bash spotlights_movielens.sh

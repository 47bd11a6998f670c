#!/usr/bin/env bash
# MovieLens 100k, u1.test (20,000 ratings): five spotlights of at least 1000 ratings (5%).
set -euo pipefail
source "$(dirname "$0")/spotlights_common.sh"
run_five_spotlights movielens_val_deepset "${MIN_WEIGHT:-1000}" movielens_val_deepset_0.05_spherical

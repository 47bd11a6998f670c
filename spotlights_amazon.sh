#!/usr/bin/env bash
# Amazon polarity, first 20,000 reviews: five spotlights of at least 1000 reviews (5%).
set -euo pipefail
source "$(dirname "$0")/spotlights_common.sh"
run_five_spotlights amazon_train_sst "${MIN_WEIGHT:-1000}" amazon_train_sst_0.05_spherical

#!/usr/bin/env bash
# ImageNet validation (50,000 images): five spotlights of at least 1000 images (2%).
set -euo pipefail
source "$(dirname "$0")/spotlights_common.sh"
run_five_spotlights imagenet_val_resnet "${MIN_WEIGHT:-1000}" imagenet_val_resnet_0.02_spherical \
    --barrier_scale 10

#!/usr/bin/env bash
# Chest X-ray training split (5,216 images): five spotlights of at least 104 images (2%).
set -euo pipefail
source "$(dirname "$0")/spotlights_common.sh"
run_five_spotlights xray_train_resnet "${MIN_WEIGHT:-104}" xray_train_resnet_0.02_spherical

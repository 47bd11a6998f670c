#!/usr/bin/env bash
# FairFace validation (10,954 faces): five spotlights of at least 219 faces (2%).
set -euo pipefail
source "$(dirname "$0")/spotlights_common.sh"
run_five_spotlights fairface_val_resnet "${MIN_WEIGHT:-219}" fairface_val_resnet_0.02_spherical

#!/usr/bin/env bash
# SQuAD validation questions under 384 tokens (10,386): five spotlights of at least 539.
set -euo pipefail
source "$(dirname "$0")/spotlights_common.sh"
run_five_spotlights squad_val_bert_cls "${MIN_WEIGHT:-539}" squad_val_bert_cls_0.05_spherical \
    --barrier_scale 10

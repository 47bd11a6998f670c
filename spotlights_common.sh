# Shared by the spotlights_<domain>.sh scripts: the paper's five chained spotlights.
# Environment: DEVICE (default auto: cuda if available, else cpu), NUM_STEPS (default 5000,
# the paper's), INFERENCE_DIR (default inference_results), OUTPUT_DIR (default
# spotlight_outputs), PYTHON (default python); MIN_WEIGHT overrides the published size
# (for small test datasets).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEVICE="${DEVICE:-auto}"
NUM_STEPS="${NUM_STEPS:-5000}"
INFERENCE_DIR="${INFERENCE_DIR:-inference_results}"
OUTPUT_DIR="${OUTPUT_DIR:-spotlight_outputs}"
PYTHON="${PYTHON:-python}"

# run_five_spotlights INFERENCE_STEM MIN_WEIGHT OUTPUT_STEM [extra run_spotlight flags]
run_five_spotlights() {
    local inference="$INFERENCE_DIR/$1.npz" min_weight="$2" stem="$3"
    shift 3
    if [ ! -f "$inference" ]; then
        echo "error: $inference not found; run the domain's inference script first" >&2
        exit 1
    fi
    local past=() output
    for i in 1 2 3 4 5; do
        output="$OUTPUT_DIR/${stem}_${i}.npz"
        echo "spotlight $i of 5 -> $output"
        "$PYTHON" "$ROOT/spotlight/run_spotlight.py" "$min_weight" "$inference" "$output" \
            --spherical --learning_rate 1e-2 --lr_patience 10 --num_steps "$NUM_STEPS" \
            --print_every 20 --device "$DEVICE" "$@" ${past[@]+--past_weights "${past[@]}"}
        past+=("$output")
    done
    "$PYTHON" -m spotlight.summarize "$inference" "${past[@]}"
}

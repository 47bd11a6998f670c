"""Inference of the FairFace gender classifier on the validation split.

    python inference_fairface.py   # $MODEL_DIR/fairface/best.pt -> inference_results/
                                   #   fairface_val_resnet.npz

Saves per face the input of the final linear layer (512 floats), the cross-entropy, the
gender probabilities and label, and race, age, gender and file as metadata.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader

from spotlight.checkpoints import load_checkpoint
from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.inference import run_inference, save_classifier_results
from spotlight.paths import data_dir, model_dir
from spotlight.vision import (
    FAIRFACE_AGES,
    FAIRFACE_GENDERS,
    FAIRFACE_RACES,
    FairFace,
    fairface_model,
    fairface_transform,
)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--checkpoint", type=Path, default=model_dir() / "fairface" / "best.pt")
parser.add_argument("--output", type=Path,
                    default=Path("inference_results") / "fairface_val_resnet.npz")
parser.add_argument("--batch_size", type=int, default=128)
parser.add_argument("--image_size", type=int, default=224)
parser.add_argument("--workers", type=int, default=4)
parser.add_argument("--device", default="auto")
args = parser.parse_args()

try:
    device = resolve_device(args.device)
    dataset = FairFace(args.data_dir / "fairface", "val", fairface_transform(args.image_size))
    model = fairface_model()
    model.load_state_dict(load_checkpoint(args.checkpoint,
                                          hint="train one with train_fairface.py")["model"])
except (SpotlightError, RuntimeError) as error:
    sys.exit(f"error: {error}")
model.to(device)
loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers)
found = run_inference(model, loader, model.fc, device, desc="FairFace validation")
order = found["indices"]
save_classifier_results(
    found,
    metadata={"race": np.asarray(FAIRFACE_RACES)[dataset.race[order]],
              "age": np.asarray(FAIRFACE_AGES)[dataset.age[order]],
              "gender": np.asarray(FAIRFACE_GENDERS)[dataset.gender[order]],
              "file": np.asarray(dataset.files)[order]},
    info={"domain": "fairface", "split": "val", "model": str(args.checkpoint),
          "classes": list(FAIRFACE_GENDERS), "data_dir": str(args.data_dir / "fairface")},
    output=args.output, noun="faces")

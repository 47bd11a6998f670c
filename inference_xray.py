"""Inference of the chest X-ray CNN on the training split (where the paper ran spotlights).

    python inference_xray.py   # $MODEL_DIR/xray/cnn.pt -> inference_results/xray_train_resnet.npz

Saves per image the input of the CNN's final linear layer (100 floats), the cross-entropy,
the class probabilities and label, and the class name and file as metadata. The output
stem keeps the paper's name ("resnet") so its spotlight file names match.
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
from spotlight.vision import XRAY_CLASSES, ChestXray, XrayCNN, xray_transform

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--checkpoint", type=Path, default=model_dir() / "xray" / "cnn.pt")
parser.add_argument("--split", default="train")
parser.add_argument("--output", type=Path,
                    default=Path("inference_results") / "xray_train_resnet.npz")
parser.add_argument("--batch_size", type=int, default=256)
parser.add_argument("--workers", type=int, default=4)
parser.add_argument("--device", default="auto")
args = parser.parse_args()

try:
    device = resolve_device(args.device)
    dataset = ChestXray(args.data_dir / "xray", args.split, xray_transform())
    model = XrayCNN()
    model.load_state_dict(load_checkpoint(args.checkpoint,
                                          hint="train one with train_xray.py")["model"])
except (SpotlightError, RuntimeError) as error:
    sys.exit(f"error: {error}")
model.to(device)
loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers)
found = run_inference(model, loader, model.classifier, device, desc=f"X-ray {args.split}")
save_classifier_results(
    found,
    metadata={"label_name": np.asarray(XRAY_CLASSES)[found["labels"]],
              "file": np.asarray([str(path) for path in dataset.files])[found["indices"]]},
    info={"domain": "xray", "split": args.split, "model": str(args.checkpoint),
          "classes": list(XRAY_CLASSES)},
    output=args.output, noun="images")

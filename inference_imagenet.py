"""Inference of a pretrained ResNet-18 on the ImageNet validation set.

    python inference_imagenet.py   # $MODEL_DIR/imagenet/resnet18.pth -> inference_results/
                                   #   imagenet_val_resnet.npz

The weights are torchvision's ResNet-18 state dict saved as a local file (no download).
Saves per image the input of the final linear layer (512 floats), the cross-entropy, the
full 1000-class probability vector and label, and the synset id, class name and file.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.inference import run_inference, save_classifier_results
from spotlight.paths import data_dir, model_dir
from spotlight.vision import IndexedImageNet, imagenet_model, imagenet_transform

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--weights", type=Path, default=model_dir() / "imagenet" / "resnet18.pth")
parser.add_argument("--output", type=Path,
                    default=Path("inference_results") / "imagenet_val_resnet.npz")
parser.add_argument("--batch_size", type=int, default=128)
parser.add_argument("--image_size", type=int, default=224)
parser.add_argument("--workers", type=int, default=4)
parser.add_argument("--device", default="auto")
args = parser.parse_args()

try:
    device = resolve_device(args.device)
    dataset = IndexedImageNet(args.data_dir / "imagenet", "val",
                              imagenet_transform(args.image_size))
    if not args.weights.is_file():
        raise SpotlightError(f"{args.weights}: no ResNet-18 weights here; save torchvision's "
                             "state dict there once while online (see README)")
    model = imagenet_model()
    model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
except (SpotlightError, RuntimeError) as error:
    sys.exit(f"error: {error}")
model.to(device)
loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers)
found = run_inference(model, loader, model.fc, device, desc="ImageNet validation")
save_classifier_results(
    found,
    metadata={"wnid": np.asarray(dataset.wnids)[found["labels"]],
              "class_name": np.asarray(dataset.class_names)[found["labels"]],
              "file": np.asarray([str(path) for path in dataset.files])[found["indices"]]},
    info={"domain": "imagenet", "split": "val", "model": str(args.weights),
          "classes": list(dataset.class_names)},
    output=args.output, noun="images")

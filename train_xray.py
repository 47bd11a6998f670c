"""Train the chest X-ray pneumonia classifier: the paper's small CNN.

    python train_xray.py             # $DATA_DIR/xray -> $MODEL_DIR/xray/cnn.pt

AdamW (lr 3e-3, weight decay 0.01), batch 512, 20 epochs, random affine augmentation
(10 degrees, translate 0.1, scale 0.9-1.1) on 150x150 grayscale images. Reports loss and
accuracy on the test split, per class, after every epoch, and saves the model each epoch.
"""

import argparse
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from spotlight.checkpoints import save_checkpoint
from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.inference import run_inference
from spotlight.paths import data_dir, model_dir
from spotlight.training import group_report, train_one_epoch
from spotlight.vision import XRAY_CLASSES, ChestXray, XrayCNN, xray_transform

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--checkpoint_dir", type=Path, default=model_dir() / "xray",
                    help="default: $MODEL_DIR/xray")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch_size", type=int, default=512)
parser.add_argument("--learning_rate", type=float, default=3e-3)
parser.add_argument("--weight_decay", type=float, default=0.01)
parser.add_argument("--workers", type=int, default=4, help="data-loading processes")
parser.add_argument("--device", default="auto")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

try:
    device = resolve_device(args.device)
    train_set = ChestXray(args.data_dir / "xray", "train", xray_transform(augment=True))
    test_set = ChestXray(args.data_dir / "xray", "test", xray_transform())
except SpotlightError as error:
    sys.exit(f"error: {error}")
torch.manual_seed(args.seed)
model = XrayCNN().to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate,
                              weight_decay=args.weight_decay)
train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                          num_workers=args.workers,
                          generator=torch.Generator().manual_seed(args.seed))
test_loader = DataLoader(test_set, batch_size=args.batch_size, num_workers=args.workers)
print(f"chest X-ray: {len(train_set):,} training and {len(test_set):,} test images on {device}")

for epoch in range(args.epochs):
    train_loss = train_one_epoch(model, train_loader, optimizer, device, clip=None,
                                 desc=f"epoch {epoch + 1}/{args.epochs}")
    test = run_inference(model, test_loader, model.classifier, device, desc="test")
    correct = test["outputs"].argmax(axis=1) == test["labels"]
    table, metrics = group_report(test["losses"], correct, test["labels"], XRAY_CLASSES)
    print(f"epoch {epoch + 1}: training loss {train_loss:.4f}; test by class:\n{table}")
    save_checkpoint(args.checkpoint_dir / "cnn.pt", {"model": model.state_dict(),
                                                     "epoch": epoch + 1, "test": metrics})
print(f"saved {args.checkpoint_dir / 'cnn.pt'}")

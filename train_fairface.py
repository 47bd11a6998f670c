"""Train the FairFace gender classifier: ResNet-34 from scratch.

    python train_fairface.py --checkpoint_dir $MODEL_DIR/fairface
    torchrun --nproc_per_node 4 train_fairface.py        # several GPUs, DistributedDataParallel
    python train_fairface.py --resume                     # continue from last.pt

Adam (lr 1e-4), batch 64, 20 epochs, gradient-norm clip 0.5. After every epoch: validation
loss and accuracy overall and per race, `last.pt` (model, optimiser, epoch, history) and,
when the validation loss is the best so far, `best.pt`, which inference uses.
"""

import argparse
import math
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from spotlight.checkpoints import load_checkpoint, save_checkpoint
from spotlight.device import resolve_device
from spotlight.errors import SpotlightError
from spotlight.inference import run_inference
from spotlight.paths import data_dir, model_dir
from spotlight.training import group_report, train_one_epoch
from spotlight.vision import FAIRFACE_RACES, FairFace, fairface_model, fairface_transform

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--checkpoint_dir", type=Path, default=model_dir() / "fairface",
                    help="default: $MODEL_DIR/fairface")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch_size", type=int, default=64, help="per process")
parser.add_argument("--learning_rate", type=float, default=1e-4)
parser.add_argument("--clip", type=float, default=0.5)
parser.add_argument("--image_size", type=int, default=224)
parser.add_argument("--workers", type=int, default=4, help="data-loading processes")
parser.add_argument("--device", default="auto", help="ignored under torchrun: one GPU a rank")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--resume", action="store_true", help="continue from last.pt")
args = parser.parse_args()

# Under torchrun each process is one rank; rank 0 validates, prints and writes checkpoints.
distributed = "RANK" in os.environ
if distributed:
    use_cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
else:
    rank, world_size = 0, 1
main_process = rank == 0
try:
    if not distributed:
        device = resolve_device(args.device)
    root = args.data_dir / "fairface"
    train_set = FairFace(root, "train", fairface_transform(args.image_size))
    val_set = FairFace(root, "val", fairface_transform(args.image_size))
    start = None
    if args.resume:
        start = load_checkpoint(args.checkpoint_dir / "last.pt",
                                hint="nothing to resume; train without --resume")
except SpotlightError as error:
    sys.exit(f"error: {error}")

torch.manual_seed(args.seed)
model = fairface_model().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
first_epoch, best_val_loss, history = 0, math.inf, []
if start is not None:
    model.load_state_dict(start["model"])
    optimizer.load_state_dict(start["optimizer"])
    first_epoch, best_val_loss, history = start["epoch"], start["best_val_loss"], start["history"]
    if main_process:
        print(f"resuming after epoch {first_epoch} (best validation loss {best_val_loss:.4f})")
network = DistributedDataParallel(model) if distributed else model
sampler = DistributedSampler(train_set, seed=args.seed) if distributed else None
train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=sampler is None,
                          sampler=sampler, num_workers=args.workers, drop_last=False,
                          generator=torch.Generator().manual_seed(args.seed))
val_loader = DataLoader(val_set, batch_size=2 * args.batch_size, num_workers=args.workers)
if main_process:
    print(f"FairFace: {len(train_set):,} training and {len(val_set):,} validation faces; "
          f"{world_size} process(es) on {device}")

for epoch in range(first_epoch, args.epochs):
    if sampler is not None:
        sampler.set_epoch(epoch)
    train_loss = train_one_epoch(network, train_loader, optimizer, device, args.clip,
                                 desc=f"epoch {epoch + 1}/{args.epochs}",
                                 show_progress=main_process)
    if main_process:
        val = run_inference(model, val_loader, model.fc, device, desc="validation")
        correct = val["outputs"].argmax(axis=1) == val["labels"]
        table, metrics = group_report(val["losses"], correct, val_set.race[val["indices"]],
                                      FAIRFACE_RACES)
        val_loss = metrics["all"]["loss"]
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "validation": metrics})
        print(f"epoch {epoch + 1}: training loss {train_loss:.4f}; validation by race:\n{table}")
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "epoch": epoch + 1, "best_val_loss": min(best_val_loss, val_loss),
                 "history": history}
        save_checkpoint(args.checkpoint_dir / "last.pt", state)
        if val_loss < best_val_loss:
            best_val_loss = val_loss
            save_checkpoint(args.checkpoint_dir / "best.pt",
                            {"model": model.state_dict(), "epoch": epoch + 1,
                             "val_loss": val_loss, "validation": metrics})
            print(f"  best so far: saved {args.checkpoint_dir / 'best.pt'}")
    if distributed:
        dist.barrier()  # the other ranks wait for rank 0's validation and checkpoint
if distributed:
    dist.destroy_process_group()

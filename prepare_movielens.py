"""Put MovieLens 100k (GroupLens's ml-100k folder) under $DATA_DIR/movielens/ml-100k.

    python prepare_movielens.py                      # download, else the recbole wheel
    python prepare_movielens.py --zip ~/ml-100k.zip  # a copy you already have

Sources, in order: the zip you give, the official GroupLens download, and the copy inside
the `recbole==1.2.1` wheel on PyPI (fetched with `pip download`, not installed).
"""

import argparse
import sys
from pathlib import Path

from spotlight.errors import SpotlightError
from spotlight.movielens import prepare_ml100k
from spotlight.paths import data_dir

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--zip", type=Path, default=None, help="an ml-100k.zip you already have")
parser.add_argument("--data_dir", type=Path, default=data_dir(), help="default: $DATA_DIR")
parser.add_argument("--no_download", action="store_true", help="skip the GroupLens download")
parser.add_argument("--force", action="store_true", help="prepare again even if present")
args = parser.parse_args()

try:
    prepare_ml100k(args.data_dir / "movielens" / "ml-100k", zip_path=args.zip,
                   download=not args.no_download, force=args.force)
except SpotlightError as error:
    sys.exit(f"error: {error}")

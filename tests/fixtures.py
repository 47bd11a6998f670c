"""Small datasets written in the real datasets' on-disk formats, for end-to-end tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from spotlight.movielens import GENRES

OCCUPATIONS = ["student", "engineer", "writer", "artist", "retired", "other"]
TITLES = ["Misérables, Les (1995)", "Toy Story (1995)", "Cité des enfants perdus, La (1995)",
          "Heat (1995)", "Crumb (1994)", "Señorita Extraviada (2001)"]


def write_tiny_ml100k(folder: Path, n_users: int = 30, n_items: int = 40,
                      n_ratings: int = 600, seed: int = 0) -> Path:
    """GroupLens's u.data / u.user / u.item (latin-1) for a tiny random rating matrix whose
    ratings depend on user and item, so a model has something to learn. No split files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pairs = rng.choice(n_users * n_items, size=n_ratings, replace=False)
    users, items = pairs // n_items + 1, pairs % n_items + 1
    taste = rng.normal(size=n_users + 1)
    quality = rng.normal(size=n_items + 1)
    ratings = np.clip(np.round(3 + taste[users] + quality[items]), 1, 5).astype(int)
    timestamps = 874_000_000 + rng.integers(0, 10_000_000, n_ratings)
    (folder / "u.data").write_text(
        "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in zip(users, items, ratings, timestamps,
                                                              strict=True)),
        encoding="latin-1")
    (folder / "u.user").write_text(
        "".join(f"{u}|{rng.integers(7, 74)}|{'MF'[u % 2]}|{OCCUPATIONS[u % len(OCCUPATIONS)]}|"
                f"{10000 + u}\n" for u in range(1, n_users + 1)),
        encoding="latin-1")
    lines = []
    for i in range(1, n_items + 1):
        flags = ["0"] * len(GENRES)
        for genre in rng.choice(np.arange(1, len(GENRES)), size=rng.integers(1, 3), replace=False):
            flags[genre] = "1"
        title = TITLES[i % len(TITLES)] if i <= len(TITLES) else f"Movie {i} (1996)"
        lines.append(f"{i}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?{i}|"
                     + "|".join(flags) + "\n")
    (folder / "u.item").write_text("".join(lines), encoding="latin-1")
    return folder


def zip_folder(folder: Path, zip_path: Path, prefix: str = "ml-100k/") -> Path:
    """Zip a folder's files under ``prefix``, as GroupLens's ml-100k.zip is laid out."""
    with zipfile.ZipFile(zip_path, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, prefix + path.name)
    return zip_path


def write_recbole_wheel(folder: Path, wheel_path: Path) -> Path:
    """A stand-in for the recbole wheel: RecBole's atomic files (UTF-8, typed headers) made
    from a tiny GroupLens folder, at the path the real wheel holds them."""
    data = (folder / "u.data").read_text(encoding="latin-1").splitlines()
    users = (folder / "u.user").read_text(encoding="latin-1").splitlines()
    items = (folder / "u.item").read_text(encoding="latin-1").splitlines()
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float", *data]
    user = ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
    user += [line.replace("|", "\t") for line in users]
    item = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    for line in items:
        fields = line.split("|")
        title, year = fields[1].rsplit(" (", 1)
        genres = " ".join(g for g, flag in zip(GENRES, fields[5:], strict=True) if flag == "1")
        item.append(f"{fields[0]}\t{title}\t{year.rstrip(')')}\t{genres}")
    prefix = "recbole/dataset_example/ml-100k/ml-100k."
    with zipfile.ZipFile(wheel_path, "w") as archive:
        for suffix, lines in (("inter", inter), ("user", user), ("item", item)):
            archive.writestr(prefix + suffix, "\n".join(lines) + "\n")
    return wheel_path

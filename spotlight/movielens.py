"""MovieLens 100k: preparing the GroupLens folder, checking it, and loading it.

The folder is GroupLens's `ml-100k` layout: `u.data` (tab-separated `user item rating
timestamp`), `u.user` (`id|age|gender|occupation|zip`), `u.item` (`id|title|release
date|video release date|IMDb URL|` + 19 genre flags, latin-1), and the `u1.base` /
`u1.test` split made by GroupLens's rule (`mku.sh`): u1.test is rows 1-20,000 of u.data (the
first of five folds), u1.base the other 80,000, each sorted by user then item.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spotlight.errors import SpotlightError
from spotlight.models import SparseIndex

GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
ML100K_SIZES = (100_000, 943, 1_682)  # ratings, users, items
FOLDS = 5  # GroupLens's split: 5 folds of 20,000 ratings
GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_FOLDER = "recbole/dataset_example/ml-100k/"
REQUIRED_FILES = ("u.data", "u.user", "u.item")
SPLIT_FILES = ("u1.base", "u1.test")
ENCODING = "latin-1"


# --------------------------------------------------------------------------- reading


def _read_rows(path: Path, separator: str, columns: Sequence[str]) -> list[list[str]]:
    """The non-blank lines of a latin-1 GroupLens file, split into ``len(columns)`` fields."""
    try:
        text = path.read_text(encoding=ENCODING)
    except FileNotFoundError:
        raise SpotlightError(f"{path}: file not found") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(separator)
        if len(fields) != len(columns):
            raise SpotlightError(
                f"{path}: line {number} has {len(fields)} "
                f"{'tab' if separator == chr(9) else repr(separator)}-separated fields, "
                f"expected {len(columns)} ({' '.join(columns)})"
            )
        rows.append(fields)
    if not rows:
        raise SpotlightError(f"{path}: holds no rows")
    return rows


def read_ratings(path: Path) -> np.ndarray:
    """(n, 4) int64 array of user, item, rating, timestamp from a u.data-style file."""
    rows = _read_rows(path, "\t", ("user", "item", "rating", "timestamp"))
    try:
        return np.asarray(rows, dtype=np.int64)
    except ValueError:
        raise SpotlightError(f"{path}: holds a rating line that is not four integers") from None


def read_users(path: Path) -> pd.DataFrame:
    """u.user as a DataFrame indexed by user id: age, gender, occupation, zip."""
    frame = _read_pipe_table(path, ["user", "age", "gender", "occupation", "zip"])
    try:
        frame["age"] = frame["age"].astype(int)
    except ValueError:
        raise SpotlightError(f"{path}: the age column holds a value that is not a number") from None
    return frame


def read_items(path: Path) -> pd.DataFrame:
    """u.item as a DataFrame indexed by item id: title, release_date and 19 genre flags."""
    columns = ["item", "title", "release_date", "video_release_date", "imdb_url", *GENRES]
    frame = _read_pipe_table(path, columns)
    flags = frame[list(GENRES)]
    if not flags.isin(["0", "1"]).all().all():
        raise SpotlightError(f"{path}: genre flags must be 0 or 1")
    frame[list(GENRES)] = flags.astype(int).astype(bool)
    return frame


def _read_pipe_table(path: Path, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(_read_rows(path, "|", columns), columns=columns)
    try:
        frame[columns[0]] = frame[columns[0]].astype(int)
    except ValueError:
        raise SpotlightError(f"{path}: the id column holds a value that is not a number") from None
    return frame.set_index(columns[0])


@dataclass
class MovieLens:
    """One GroupLens split of MovieLens 100k. Ratings arrays are (n, 4): user, item, rating,
    timestamp, with GroupLens's 1-based ids."""

    users: pd.DataFrame
    items: pd.DataFrame
    train: np.ndarray
    test: np.ndarray

    @property
    def n_users(self) -> int:
        return int(self.users.index.max())

    @property
    def n_items(self) -> int:
        return int(self.items.index.max())


def load_movielens(folder: Path, split: int = 1) -> MovieLens:
    """Load `u{split}.base` (train) and `u{split}.test` with the user and item tables."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SpotlightError(
            f"{folder}: no MovieLens 100k folder here; run `python prepare_movielens.py` "
            "or set DATA_DIR to the folder holding movielens/ml-100k"
        )
    data = MovieLens(
        users=read_users(folder / "u.user"),
        items=read_items(folder / "u.item"),
        train=read_ratings(folder / f"u{split}.base"),
        test=read_ratings(folder / f"u{split}.test"),
    )
    for name, ratings in (("base", data.train), ("test", data.test)):
        _check_ratings(folder / f"u{split}.{name}", ratings, data.n_users, data.n_items)
    return data


AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (50, "45-49"),
             (56, "50-55"))


def age_band(age: int) -> str:
    """MovieLens's age bands (as in its 1M release): under 18, 18-24, ..., 50-55, 56+."""
    for upper, name in AGE_BANDS:
        if age < upper:
            return name
    return "56+"


def rating_tensors(data: MovieLens, ratings: np.ndarray,
                   device: torch.device | str = "cpu") -> tuple[torch.Tensor, SparseIndex]:
    """Ratings (1..5) and their (user, movie) entries, 0-based, for the autoencoder."""
    index = SparseIndex(torch.as_tensor(ratings[:, 0] - 1, device=device),
                        torch.as_tensor(ratings[:, 1] - 1, device=device),
                        data.n_users, data.n_items)
    return torch.as_tensor(ratings[:, 2], device=device), index


def _check_ratings(path: Path, ratings: np.ndarray, n_users: int, n_items: int) -> None:
    if not np.isin(ratings[:, 2], [1, 2, 3, 4, 5]).all():
        raise SpotlightError(f"{path}: ratings must be integers 1 to 5")
    if ratings[:, 0].min() < 1 or ratings[:, 0].max() > n_users:
        raise SpotlightError(f"{path}: user ids must be in 1..{n_users} (the users in u.user)")
    if ratings[:, 1].min() < 1 or ratings[:, 1].max() > n_items:
        raise SpotlightError(f"{path}: item ids must be in 1..{n_items} (the items in u.item)")


# --------------------------------------------------------------------------- the split rule


def split_u1(ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GroupLens's u1 split of u.data's rows: (u1.base, u1.test), each sorted by user, item.
    u1.test is the first fifth of the rows (20,000 of 100,000), u1.base the rest."""
    fold = len(ratings) // FOLDS
    test, base = ratings[:fold], ratings[fold:]
    return _sort_by_user_item(base), _sort_by_user_item(test)


def _sort_by_user_item(ratings: np.ndarray) -> np.ndarray:
    return ratings[np.lexsort((ratings[:, 1], ratings[:, 0]))]


def _ratings_text(ratings: np.ndarray) -> str:
    return "".join("\t".join(map(str, row)) + "\n" for row in ratings.tolist())


# --------------------------------------------------------------------------- checking


def check_ml100k(folder: Path, expected_sizes: tuple[int, int, int] | None = ML100K_SIZES) -> str:
    """Check a prepared folder: files present and parseable, sizes (ratings, users, items)
    as expected, and u1.base / u1.test made from u.data by the split rule."""
    folder = Path(folder)
    missing = [name for name in REQUIRED_FILES + SPLIT_FILES if not (folder / name).is_file()]
    if missing:
        raise SpotlightError(f"{folder}: missing {', '.join(missing)}")
    ratings = read_ratings(folder / "u.data")
    users, items = read_users(folder / "u.user"), read_items(folder / "u.item")
    sizes = (len(ratings), len(users), len(items))
    if expected_sizes is not None:
        for what, found, expected in zip(("ratings", "users", "items"), sizes, expected_sizes,
                                         strict=True):
            if found != expected:
                raise SpotlightError(
                    f"{folder}: has {found:,} {what}, expected {expected:,} for MovieLens 100k"
                )
    _check_ratings(folder / "u.data", ratings, len(users), len(items))
    base, test = split_u1(ratings)
    for name, expected in (("u1.base", base), ("u1.test", test)):
        found = read_ratings(folder / name)
        if found.shape != expected.shape or not np.array_equal(found, expected):
            raise SpotlightError(
                f"{folder / name}: is not GroupLens's split of u.data (u1.test = its first "
                f"{len(test):,} rows, u1.base the rest, each sorted by user then item)"
            )
    return (f"{folder}: {sizes[0]:,} ratings, {sizes[1]:,} users, {sizes[2]:,} items; "
            f"u1.base {len(base):,}, u1.test {len(test):,}")


# --------------------------------------------------------------------------- sources


def files_from_zip(source: Path | bytes) -> dict[str, bytes]:
    """The GroupLens files inside an ml-100k.zip (wherever they sit in it)."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(handle) as archive:
            found = {}
            for member in archive.namelist():
                name = member.rsplit("/", 1)[-1]
                if name in REQUIRED_FILES + SPLIT_FILES + ("u.genre", "u.occupation", "README"):
                    found[name] = archive.read(member)
    except (zipfile.BadZipFile, OSError) as error:
        raise SpotlightError(f"{source if isinstance(source, Path) else 'download'}: "
                             f"not a readable zip file ({error})") from None
    missing = [name for name in REQUIRED_FILES if name not in found]
    if missing:
        where = source if isinstance(source, Path) else "the download"
        raise SpotlightError(f"{where}: has no {', '.join(missing)}; is it ml-100k.zip?")
    return found


def files_from_grouplens(url: str = GROUPLENS_URL, timeout: float = 20.0) -> dict[str, bytes]:
    """Download the official ml-100k.zip."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return files_from_zip(response.read())
    except OSError as error:
        raise SpotlightError(f"{url}: download failed ({error})") from None


def files_from_recbole_wheel(wheel: Path | None = None) -> dict[str, bytes]:
    """MovieLens 100k from the `recbole` wheel on PyPI, converted to GroupLens's formats.

    The wheel is fetched with `pip download --no-deps` (recbole is not installed) and read as
    the zip it is. Its copy holds u.data's rows in u.data's order, the user table, and per
    movie its title, year and genres; release dates and IMDb URLs are not in it.
    """
    with tempfile.TemporaryDirectory() as scratch:
        if wheel is None:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                       "--dest", scratch, RECBOLE_REQUIREMENT]
            done = subprocess.run(command, capture_output=True, text=True)
            wheels = list(Path(scratch).glob("recbole-*.whl"))
            if done.returncode != 0 or not wheels:
                reason = done.stderr.strip().splitlines()[-1:] or ["no wheel was downloaded"]
                raise SpotlightError(f"pip download {RECBOLE_REQUIREMENT} failed: {reason[0]}")
            wheel = wheels[0]
        try:
            with zipfile.ZipFile(wheel) as archive:
                read = {suffix: archive.read(f"{RECBOLE_FOLDER}ml-100k.{suffix}").decode("utf-8")
                        for suffix in ("inter", "user", "item")}
        except (zipfile.BadZipFile, KeyError, OSError) as error:
            raise SpotlightError(f"{wheel}: no MovieLens 100k inside ({error})") from None
    return convert_recbole(read["inter"], read["user"], read["item"])


def convert_recbole(inter: str, user: str, item: str) -> dict[str, bytes]:
    """RecBole's atomic files (tab-separated, a typed header line) to GroupLens's files."""

    def rows(text: str) -> list[list[str]]:
        return [line.split("\t") for line in text.splitlines()[1:] if line.strip()]

    data = "".join("\t".join(row[:4]) + "\n" for row in rows(inter))
    users = "".join("|".join(row[:5]) + "\n" for row in rows(user))
    items = []
    for item_id, title, year, classes in rows(item):
        # RecBole spells item 267's missing title and year "unkonwn"; GroupLens says "unknown".
        title = "unknown" if title == "unkonwn" else title
        if year.isdigit():
            title = f"{title} ({year})"
        flags = ["1" if genre in classes.split(" ") else "0" for genre in GENRES]
        items.append("|".join([item_id, title, "", "", "", *flags]) + "\n")
    return {
        "u.data": data.encode(ENCODING),
        "u.user": users.encode(ENCODING),
        "u.item": "".join(items).encode(ENCODING, errors="replace"),
        "SOURCE": (
            b"Built from the MovieLens 100k copy in the PyPI wheel recbole==1.2.1 "
            b"(recbole/dataset_example/ml-100k). Titles carry the release year only; release "
            b"dates and IMDb URLs are empty.\n"
        ),
    }


# --------------------------------------------------------------------------- preparing


def prepare_ml100k(
    target: Path,
    zip_path: Path | None = None,
    download: bool = True,
    recbole_wheel: Path | None = None,
    expected_sizes: tuple[int, int, int] | None = ML100K_SIZES,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Put GroupLens's ml-100k folder at ``target`` from the first source that works: a
    zip the user has, the official download, or the recbole wheel on PyPI. The folder is
    written beside the target and renamed into place once it passes the check."""
    target = Path(target)
    if target.exists() and not force:
        try:
            log(check_ml100k(target, expected_sizes) + " (already prepared)")
            return target
        except SpotlightError as error:
            log(f"the existing folder fails its check ({error}); preparing it again")
    sources: list[tuple[str, Callable[[], dict[str, bytes]]]] = []
    if zip_path is not None:
        sources.append((f"zip file {zip_path}", lambda: files_from_zip(Path(zip_path))))
    if download:
        sources.append((f"download {GROUPLENS_URL}", files_from_grouplens))
    sources.append((f"PyPI wheel {RECBOLE_REQUIREMENT}",
                    lambda: files_from_recbole_wheel(recbole_wheel)))
    failures = []
    for name, fetch in sources:
        log(f"trying {name} ...")
        try:
            files = fetch()
            path = _write_folder(target, files, expected_sizes)
        except SpotlightError as error:
            log(f"  failed: {error}")
            failures.append(f"{name}: {error}")
            continue
        log(check_ml100k(path, expected_sizes))
        return path
    raise SpotlightError("could not prepare MovieLens 100k; every source failed: "
                         + "; ".join(failures))


def _write_folder(target: Path, files: dict[str, bytes],
                  expected_sizes: tuple[int, int, int] | None) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    partial.chmod(0o755)  # mkdtemp makes it private; the renamed folder should not be
    try:
        for name, content in files.items():
            (partial / name).write_bytes(content)
        if not all(name in files for name in SPLIT_FILES):
            base, test = split_u1(read_ratings(partial / "u.data"))
            (partial / "u1.base").write_text(_ratings_text(base), encoding=ENCODING)
            (partial / "u1.test").write_text(_ratings_text(test), encoding=ENCODING)
        check_ml100k(partial, expected_sizes)
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target

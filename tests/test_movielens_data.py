"""MovieLens 100k preparation and loading, on tiny folders in GroupLens's formats."""

from __future__ import annotations

import numpy as np
import pytest

from spotlight.errors import SpotlightError
from spotlight.movielens import (
    GENRES,
    check_ml100k,
    load_movielens,
    prepare_ml100k,
    read_items,
    read_ratings,
    split_u1,
)
from tests.fixtures import write_recbole_wheel, write_tiny_ml100k, zip_folder

TINY = (600, 30, 40)


@pytest.fixture
def tiny_zip(tmp_path):
    folder = write_tiny_ml100k(tmp_path / "source" / "ml-100k")
    return zip_folder(folder, tmp_path / "ml-100k.zip")


def test_split_rule_on_hand_made_rows():
    rows = np.array([[3, 1, 5, 0], [1, 2, 4, 0], [2, 9, 3, 0], [1, 1, 2, 0], [1, 7, 1, 0],
                     [2, 2, 1, 0], [9, 9, 5, 0], [1, 3, 3, 0], [5, 5, 5, 0], [2, 1, 4, 0]])
    base, test = split_u1(rows)  # 10 rows: the first 2 are the test fold
    np.testing.assert_array_equal(test, [[1, 2, 4, 0], [3, 1, 5, 0]])
    assert base[:, :2].tolist() == [[1, 1], [1, 3], [1, 7], [2, 1], [2, 2], [2, 9], [5, 5], [9, 9]]


def test_prepare_from_zip(tmp_path, tiny_zip):
    target = tmp_path / "data" / "movielens" / "ml-100k"
    logs = []
    prepare_ml100k(target, zip_path=tiny_zip, download=False, expected_sizes=TINY,
                   log=logs.append)
    ratings = read_ratings(target / "u.data")
    base, test = split_u1(ratings)
    np.testing.assert_array_equal(read_ratings(target / "u1.test"), test)
    np.testing.assert_array_equal(read_ratings(target / "u1.base"), base)
    assert len(test) == 120 and len(base) == 480
    assert "600 ratings, 30 users, 40 items" in logs[-1]
    data = load_movielens(target)
    assert data.items.loc[1, "title"] == "Toy Story (1995)"
    assert data.items.loc[6, "title"] == "Misérables, Les (1995)"  # latin-1 read back
    assert data.items[list(GENRES)].dtypes.eq(bool).all()
    assert set(data.users.columns) == {"age", "gender", "occupation", "zip"}
    # Prepared already: a second call checks and keeps it.
    prepare_ml100k(target, zip_path=None, download=False, expected_sizes=TINY,
                   log=logs.append)
    assert logs[-1].endswith("(already prepared)")


def test_prepare_from_recbole_wheel(tmp_path):
    source = write_tiny_ml100k(tmp_path / "source")
    wheel = write_recbole_wheel(source, tmp_path / "recbole-1.2.1-py3-none-any.whl")
    target = tmp_path / "ml-100k"
    prepare_ml100k(target, download=False, recbole_wheel=wheel, expected_sizes=TINY,
                   log=lambda line: None)
    original = read_items(source / "u.item")
    converted = load_movielens(target)
    np.testing.assert_array_equal(read_ratings(target / "u.data"), read_ratings(source / "u.data"))
    assert converted.items["title"].tolist() == original["title"].tolist()
    assert (converted.items[list(GENRES)].values == original[list(GENRES)].values).all()
    assert (target / "SOURCE").read_text().startswith("Built from the MovieLens 100k copy")


def test_every_source_failing_says_why(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(SpotlightError, match="every source failed: zip file .*broken.zip"):
        prepare_ml100k(tmp_path / "ml-100k", zip_path=broken, download=False,
                       recbole_wheel=tmp_path / "missing.whl", log=lambda line: None)
    assert not (tmp_path / "ml-100k").exists()
    assert list(tmp_path.iterdir()) == [broken]  # no half-written folder left behind


def test_check_rejects_wrong_size(tmp_path, tiny_zip):
    with pytest.raises(SpotlightError, match="has 600 ratings, expected 100,000"):
        prepare_ml100k(tmp_path / "ml-100k", zip_path=tiny_zip, download=False,
                       recbole_wheel=tmp_path / "missing.whl", log=lambda line: None)


@pytest.fixture
def prepared(tmp_path, tiny_zip):
    target = tmp_path / "ml-100k"
    prepare_ml100k(target, zip_path=tiny_zip, download=False, expected_sizes=TINY,
                   log=lambda line: None)
    return target


def test_check_rejects_corrupt_and_missing_files(prepared):
    lines = (prepared / "u.data").read_text(encoding="latin-1").splitlines()
    lines[6] = "1\t2\t3"
    (prepared / "u.data").write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(SpotlightError, match=r"u.data: line 7 has 3 tab-separated fields"):
        check_ml100k(prepared, TINY)
    (prepared / "u.item").unlink()
    with pytest.raises(SpotlightError, match="missing u.item"):
        check_ml100k(prepared, TINY)


def test_check_rejects_a_split_not_made_by_the_rule(prepared):
    test = (prepared / "u1.test").read_text().splitlines()
    (prepared / "u1.test").write_text("\n".join(reversed(test)) + "\n")
    with pytest.raises(SpotlightError, match="u1.test: is not GroupLens's split"):
        check_ml100k(prepared, TINY)


def test_load_errors(tmp_path, prepared):
    with pytest.raises(SpotlightError, match="no MovieLens 100k folder here; run `python "
                                             "prepare_movielens.py`"):
        load_movielens(tmp_path / "nowhere")
    lines = (prepared / "u1.base").read_text().splitlines()
    lines[0] = "1\t1\t9\t0"
    (prepared / "u1.base").write_text("\n".join(lines) + "\n")
    with pytest.raises(SpotlightError, match="u1.base: ratings must be integers 1 to 5"):
        load_movielens(prepared)

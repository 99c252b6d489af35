"""The shipped data: loaders work offline, the files are the ones the provenance note describes,
and scripts/make_register.py rebuilds Edmond's register exactly."""
import hashlib
import importlib.util
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import emlib
from emlib import datasets

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "emlib" / "data"
LOADERS = {
    "register": datasets.load_register,
    "register_truth": datasets.load_register_truth,
    "yrbss": datasets.load_yrbss,
    "galton": datasets.load_galton,
    "old_faithful": datasets.load_old_faithful,
    "penguins": datasets.load_penguins,
}


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_every_loader_works_offline(loader, no_network):
    data = loader()
    assert len(data) > 0


def column_lengths(table):
    return {len(column) for column in table.values()}


@pytest.mark.parametrize("loader, n_rows, columns", [
    (datasets.load_register, 400, {"name", "gender", "height_cm", "label"}),
    (datasets.load_yrbss, 13_583, {"age", "gender", "grade", "height", "weight"}),
    (datasets.load_galton, 934, {"family", "father", "mother", "midparentHeight", "children", "childNum",
                                 "gender", "childHeight"}),
    (datasets.load_old_faithful, 272, {"eruptions", "waiting"}),
    (datasets.load_penguins, 344, {"species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                   "body_mass_g", "sex", "year"}),
])
def test_tables_have_their_documented_rows_and_columns(loader, n_rows, columns):
    table = loader()
    assert set(table) == columns
    assert column_lengths(table) == {n_rows}


def test_numeric_columns_are_float_arrays_and_text_columns_str():
    faithful = datasets.load_old_faithful()
    assert faithful["waiting"].dtype == float and np.all(np.isfinite(faithful["waiting"]))
    penguins = datasets.load_penguins()
    assert penguins["species"].dtype.kind == "U"
    assert set(penguins["species"]) == {"Adelie", "Chinstrap", "Gentoo"}


def test_missing_values_are_nan_or_empty_as_the_readme_says():
    yrbss = datasets.load_yrbss()
    assert np.sum(yrbss["gender"] == "") == 12
    assert np.sum(np.isnan(yrbss["height"])) == 1_004
    penguins = datasets.load_penguins()
    assert np.sum(penguins["sex"] == "") == 11


def test_old_faithful_values_are_plausible():
    faithful = datasets.load_old_faithful()
    assert 1.5 <= faithful["eruptions"].min() and faithful["eruptions"].max() <= 5.5
    assert 40 <= faithful["waiting"].min() and faithful["waiting"].max() <= 100


# ---------------------------------------------------------------------------
# Edmond's register
# ---------------------------------------------------------------------------

def test_register_has_100_missing_genders():
    register = datasets.load_register()
    assert np.sum(register["gender"] == "") == 100
    assert set(register["gender"]) == {"", "female", "male"}


def test_register_labels_follow_the_genders():
    register = datasets.load_register()
    expected = np.array([{"female": 0, "male": 1, "": -1}[g] for g in register["gender"]])
    assert np.array_equal(register["label"], expected)
    assert np.issubdtype(register["label"].dtype, np.integer)
    assert datasets.GENDERS == ("female", "male")


def test_register_names_are_unique():
    names = datasets.load_register()["name"]
    assert len(set(names)) == len(names) == 400


def test_register_heights_are_plausible_centimetres():
    heights = datasets.load_register()["height_cm"]
    assert np.all(np.isfinite(heights))
    assert 120 < heights.min() and heights.max() < 220


def test_truth_agrees_with_the_register_where_the_gender_was_recorded():
    register = datasets.load_register()
    truth = datasets.load_register_truth()
    assert truth.shape == (400,)
    assert set(truth) == {"female", "male"}
    recorded = register["gender"] != ""
    assert np.array_equal(truth[recorded], register["gender"][recorded])


def test_truth_is_in_the_registers_order():
    with open(DATA / "register.csv", newline="") as register, open(DATA / "register_truth.csv", newline="") as truth:
        register_names = [line.split(",")[0] for line in register.read().splitlines()[1:]]
        truth_names = [line.split(",")[0] for line in truth.read().splitlines()[1:]]
    assert register_names == truth_names


def test_register_heights_come_from_yrbss():
    yrbss_heights_cm = {round(h * 100, 1) for h in datasets.load_yrbss()["height"] if np.isfinite(h)}
    assert set(datasets.load_register()["height_cm"]) <= yrbss_heights_cm


# ---------------------------------------------------------------------------
# provenance and checksums
# ---------------------------------------------------------------------------

def readme_checksums():
    text = (DATA / "README.md").read_text(encoding="utf-8")
    return dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})\s+(\S+)\s*$", text, re.MULTILINE))


def test_readme_lists_a_checksum_for_every_shipped_csv():
    assert set(readme_checksums()) == {path.name for path in DATA.glob("*.csv")}


@pytest.mark.parametrize("filename", sorted(p.name for p in DATA.glob("*.csv")))
def test_shipped_file_matches_its_readme_checksum(filename):
    digest = hashlib.sha256((DATA / filename).read_bytes()).hexdigest()
    assert digest == readme_checksums()[filename]


def test_provenance_is_the_readme():
    assert datasets.provenance() == (DATA / "README.md").read_text(encoding="utf-8")


def test_data_path_of_an_unknown_file_raises():
    with pytest.raises(ValueError, match="ships no data file"):
        datasets.data_path("no_such_file.csv")


def test_loaders_return_fresh_arrays():
    first = datasets.load_old_faithful()
    first["waiting"][:] = 0.0
    assert datasets.load_old_faithful()["waiting"].max() > 0


# ---------------------------------------------------------------------------
# scripts/make_register.py rebuilds the register exactly
# ---------------------------------------------------------------------------

def test_make_register_reproduces_the_shipped_register(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_register", REPO / "scripts" / "make_register.py")
    make_register = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_register)
    shutil.copy(DATA / "yrbss_heights.csv", tmp_path / "yrbss_heights.csv")
    monkeypatch.setattr(make_register, "DATA", tmp_path)

    make_register.main()

    for filename in ("register.csv", "register_truth.csv"):
        assert (tmp_path / filename).read_bytes() == (DATA / filename).read_bytes(), filename
    # and the source it read is still the shipped one
    assert (tmp_path / "yrbss_heights.csv").read_bytes() == (DATA / "yrbss_heights.csv").read_bytes()


def test_emlib_finds_its_data_through_the_package():
    assert Path(str(datasets.data_path("old_faithful.csv"))).resolve() == (
        Path(emlib.__file__).resolve().parent / "data" / "old_faithful.csv")

"""The real data sets of the course, shipped inside emlib and loaded with no network.

Every loader returns a dict of NumPy arrays, one per column; text columns are arrays
of str, and a missing value is "" in a text column and NaN in a number column.
Where the data come from, their licence and their checksums: ``emlib/data/README.md``
(also :func:`provenance`).
"""
import csv
from importlib import resources

import numpy as np

__all__ = ["GENDERS", "load_register", "load_register_truth", "load_yrbss", "load_galton",
           "load_old_faithful", "load_penguins", "provenance", "data_path"]

GENDERS = ("female", "male")  # label 0 and label 1 in the register


def data_path(filename):
    """The path of a shipped data file, e.g. ``data_path("old_faithful.csv")``.

    Only a plain file name in emlib's data folder is accepted: no folders, no "..".
    """
    folder = resources.files("emlib") / "data"
    if not isinstance(filename, str) or not filename or filename in (".", "..") \
            or any(sep in filename for sep in ("/", "\\", "\0")):
        raise ValueError(f"emlib ships no data file {filename!r}: pass the plain name of a shipped file, "
                         "e.g. 'old_faithful.csv' (see emlib/data/README.md for the list).")
    path = folder / filename
    if not path.is_file():
        raise ValueError(f"emlib ships no data file {filename!r}; see emlib/data/README.md for the list.")
    return path


def provenance():
    """The provenance note of the shipped data (source, citation, licence, checksums), as text."""
    return data_path("README.md").read_text(encoding="utf-8")


def _read_columns(filename, numeric):
    with data_path(filename).open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    columns = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        if name in numeric:
            columns[name] = np.array([float(v) if v not in ("", "NA") else np.nan for v in values])
        else:
            columns[name] = np.array(["" if v == "NA" else v for v in values], dtype=str)
    return columns


def load_register():
    """Edmond's school register (chapters 1 and 5): 400 pupils, 100 without a gender.

    Built from the YRBSS heights by ``scripts/make_register.py``: the names are made up
    and gender-neutral, so they say nothing about the gender.

    Returns
    -------
    dict
        ``name`` (400,) str; ``gender`` (400,) str, "female", "male" or "" where Edmond
        forgot it; ``height_cm`` (400,) float; ``label`` (400,) int, 0 for female,
        1 for male, -1 where the gender is missing (ready for ``fit_gmm(labels=...)``).
    """
    register = _read_columns("register.csv", numeric={"height_cm"})
    register["label"] = np.array([GENDERS.index(g) if g else -1 for g in register["gender"]])
    return register


def load_register_truth():
    """The true gender of every pupil in the register, kept aside for checking (chapter 5).

    Returns
    -------
    ndarray of str, shape (400,)
        "female" or "male", in the register's order.
    """
    return _read_columns("register_truth.csv", numeric=())["gender"]


def load_yrbss():
    """The YRBSS 2013 pupils (13,583 rows): ``age``, ``gender``, ``grade``, ``height`` (m),
    ``weight`` (kg); NaN or "" where missing. Source: CDC, public domain."""
    return _read_columns("yrbss_heights.csv", numeric={"age", "height", "weight"})


def load_galton():
    """Galton's family heights (934 adult children, inches): ``family``, ``father``,
    ``mother``, ``midparentHeight``, ``children``, ``childNum``, ``gender``, ``childHeight``."""
    return _read_columns(
        "galton_families.csv",
        numeric={"father", "mother", "midparentHeight", "children", "childNum", "childHeight"},
    )


def load_old_faithful():
    """Old Faithful's 272 eruptions: ``eruptions`` (duration, min) and ``waiting`` (min to the next)."""
    return _read_columns("old_faithful.csv", numeric={"eruptions", "waiting"})


def load_penguins():
    """The Palmer penguins (344 birds): ``species``, ``island``, ``bill_length_mm``,
    ``bill_depth_mm``, ``flipper_length_mm``, ``body_mass_g``, ``sex`` ("" for the 11 where
    it is missing), ``year``. Source: Gorman, Williams & Fraser (2014), CC0."""
    return _read_columns(
        "penguins.csv",
        numeric={"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"},
    )

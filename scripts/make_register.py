"""Build Edmond's school register (emlib/data/register.csv and register_truth.csv)
from the YRBSS pupils' heights (emlib/data/yrbss_heights.csv).

Run from the repository's root: ``python scripts/make_register.py``. The output is
deterministic (a seeded generator); tests/test_datasets.py checks that the shipped
files are exactly what this script makes.

* 400 pupils drawn at random from the YRBSS pupils whose gender and height are both
  recorded;
* each gets a made-up, gender-neutral first name and an initial, so that the name
  tells nothing about the gender;
* heights in centimetres;
* the gender is blanked for 100 of them (25%), chosen completely at random: Edmond
  forgot. The true genders go to register_truth.csv, kept aside for checking.
"""
import csv
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "emlib" / "data"
SEED = 20131
N_PUPILS = 400
N_MISSING = 100
FIRST_NAMES = (
    "Alex", "Ari", "Ash", "Avery", "Bailey", "Blair", "Cameron", "Casey", "Charlie", "Dakota",
    "Drew", "Eden", "Ellis", "Emerson", "Finley", "Frankie", "Gray", "Harper", "Hayden", "Indigo",
    "Jamie", "Jesse", "Jordan", "Jules", "Kai", "Kendall", "Lane", "Logan", "Marley", "Morgan",
    "Noel", "Oakley", "Parker", "Peyton", "Quinn", "Reese", "Remy", "Riley", "Robin", "Rowan",
    "Sage", "Sam", "Shay", "Skyler", "Sydney", "Taylor", "Toby", "Val", "Wren", "Yael",
)
INITIALS = "ABCDEFGHIJKLMNOPRSTVW"


def main():
    rng = np.random.default_rng(SEED)
    with open(DATA / "yrbss_heights.csv", newline="") as source:
        pupils = [row for row in csv.DictReader(source) if row["gender"] and row["height"]]
    chosen = rng.choice(len(pupils), size=N_PUPILS, replace=False)
    names = [f"{first} {initial}." for first in FIRST_NAMES for initial in INITIALS]
    pupil_names = rng.choice(names, size=N_PUPILS, replace=False)
    missing = set(rng.choice(N_PUPILS, size=N_MISSING, replace=False).tolist())
    with open(DATA / "register.csv", "w", newline="") as register, \
            open(DATA / "register_truth.csv", "w", newline="") as truth:
        register_writer, truth_writer = csv.writer(register), csv.writer(truth)
        register_writer.writerow(["name", "gender", "height_cm"])
        truth_writer.writerow(["name", "gender"])
        for i, (index, name) in enumerate(zip(chosen, pupil_names)):
            pupil = pupils[index]
            height_cm = round(float(pupil["height"]) * 100, 1)
            recorded_gender = "" if i in missing else pupil["gender"]
            register_writer.writerow([name, recorded_gender, f"{height_cm:g}"])
            truth_writer.writerow([name, pupil["gender"]])


if __name__ == "__main__":
    main()

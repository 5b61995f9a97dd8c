#!/usr/bin/env python3
"""Generate seeds/census.csv deterministically (stdlib only).

Usage (from anywhere):  python3 examples/planalign/scripts/generate_census.py [--rows N]

The output is committed, so the project works without running this script;
re-running it with the default arguments reproduces the same file byte for byte.
"""
import argparse
import csv
import datetime
import pathlib
import random

SEED = 20250101
DEFAULT_ROWS = 3000
AS_OF = datetime.date(2024, 12, 31)

LEVELS = [  # level_id, weight, salary range (matches seeds/job_levels.csv)
    (1, 35, (40000, 65000)),
    (2, 30, (60000, 95000)),
    (3, 20, (85000, 130000)),
    (4, 10, (110000, 170000)),
    (5, 5, (150000, 240000)),
]
DEPARTMENTS = ["D01", "D02", "D03", "D04", "D05", "D06"]
LOCATIONS = ["L01", "L02", "L03", "L04", "L05"]
PLANS = ["DC1", "DC2"]
RATINGS = [("exceeds", 20), ("meets", 70), ("below", 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path(__file__).resolve().parent.parent / "seeds" / "census.csv",
    )
    args = parser.parse_args()

    rng = random.Random(SEED)
    level_ids = [lvl for lvl, _, _ in LEVELS]
    level_weights = [w for _, w, _ in LEVELS]
    ranges = {lvl: rng_ for lvl, _, rng_ in LEVELS}

    with args.out.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([
            "employee_id", "birth_date", "hire_date", "level_id", "department_id",
            "location_id", "plan_id", "annual_salary", "deferral_rate",
            "performance_rating", "is_active",
        ])
        for i in range(1, args.rows + 1):
            level = rng.choices(level_ids, level_weights)[0]
            age = rng.randint(20 + 2 * level, 64)
            birth = AS_OF - datetime.timedelta(days=365 * age + rng.randint(0, 364))
            max_tenure = max(0, min(age - 20, 35))
            tenure_days = rng.randint(30, 365 * max_tenure + 364)
            hire = AS_OF - datetime.timedelta(days=tenure_days)
            lo, hi = ranges[level]
            salary = round(rng.uniform(lo, hi), 2)
            deferral = rng.choice([0.0, 0.0, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.15])
            rating = rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
            writer.writerow([
                f"E{i:05d}",
                birth.isoformat(),
                hire.isoformat(),
                level,
                rng.choice(DEPARTMENTS),
                rng.choice(LOCATIONS),
                rng.choice(PLANS),
                f"{salary:.2f}",
                f"{deferral:.2f}",
                rating,
                "true" if rng.random() > 0.03 else "false",
            ])


if __name__ == "__main__":
    main()

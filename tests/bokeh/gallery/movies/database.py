"""Write the movies app's SQLite database: invented films, the same every time (run by the tests)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np

GENRES = ["Action", "Comedy", "Drama", "Documentary", "Horror", "Romance", "Science fiction", "Western"]
_WORDS = ["Silent", "River", "Night", "Last", "Golden", "Iron", "Summer", "Lost", "City", "Winter"]
_WORDS += ["Blue", "Paper", "Red", "Garden", "Star", "Long", "Road"]
_DIRECTORS = ["A. Varda", "B. Kurosawa", "C. Lumet", "D. Campion", "E. Sirk", "F. Ray", "G. Weir", "H. Hawks"]


def write_database(path: str | Path, count: int = 1500) -> Path:
    """Create (or replace) the database at ``path`` with ``count`` films."""
    path = Path(path)
    path.unlink(missing_ok=True)
    rng = np.random.default_rng(1895)
    rows = []
    for n in range(count):
        words = rng.choice(_WORDS, size=int(rng.integers(1, 4)), replace=False)
        title = f"{' '.join(words)} {n}"
        genre = GENRES[int(rng.integers(len(GENRES)))]
        year = int(rng.integers(1970, 2021))
        reviews = int(rng.gamma(2.0, 60.0))
        meter = float(np.clip(rng.normal(62, 20), 0, 100))
        rating = float(np.clip(meter / 10 + rng.normal(0, 1.0), 1, 10))
        box_office = float(max(0.0, rng.lognormal(3.0, 1.3) * (1 + reviews / 200)))
        runtime = int(rng.normal(108, 18))
        oscars = int(rng.random() < 0.06 + meter / 1000)
        director = _DIRECTORS[int(rng.integers(len(_DIRECTORS)))]
        rows.append((title, year, genre, director, reviews, meter, rating, box_office, runtime, oscars))
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE movies (title TEXT, year INTEGER, genre TEXT, director TEXT, reviews INTEGER,"
            " meter REAL, rating REAL, box_office REAL, runtime INTEGER, oscars INTEGER)"
        )
        db.executemany("INSERT INTO movies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return path


if __name__ == "__main__":
    print(write_database(sys.argv[1]))

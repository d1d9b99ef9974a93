"""Small synthetic data sets for the plotting examples (Bokeh's originals use bokeh.sampledata).

Everything is generated here from fixed seeds: no download, no licence to track. The
shapes follow the originals' columns (autompg, stock prices, a movie table, daily
temperatures, salaries) so that the ports read like them; the values are made up.
"""

from __future__ import annotations

import numpy as np

__all__ = ["autompg", "movies", "salaries", "stocks", "weather"]

ORIGINS = ["North America", "Europe", "Asia"]


def autompg(n: int = 392) -> dict[str, np.ndarray | list[str]]:
    """Cars: mpg, cyl, displ, hp, weight, accel, yr, origin, name (like bokeh's autompg)."""
    rng = np.random.default_rng(1970)
    cyl = rng.choice([4, 6, 8], size=n, p=[0.5, 0.25, 0.25])
    displ = np.round(cyl * rng.uniform(18, 45, n))
    hp = np.round(displ * rng.uniform(0.35, 0.6, n) + 20)
    weight = np.round(1500 + displ * 7 + rng.normal(0, 250, n))
    mpg = np.round(np.clip(48 - weight / 130 + rng.normal(0, 2.5, n), 9, 47), 1)
    accel = np.round(np.clip(22 - hp / 20 + rng.normal(0, 1.5, n), 8, 25), 1)
    yr = rng.integers(70, 83, n)
    origin = [ORIGINS[i] for i in rng.choice(3, size=n, p=[0.62, 0.18, 0.2])]
    makes = ["ford", "chevy", "toyota", "honda", "vw", "fiat", "datsun", "amc", "volvo", "saab"]
    name = [f"{makes[i % len(makes)]} model {i}" for i in range(n)]
    return {"mpg": mpg, "cyl": cyl.astype(np.float64), "displ": displ, "hp": hp, "weight": weight,
            "accel": accel, "yr": yr.astype(np.float64), "origin": origin, "name": name}  # fmt: skip


TICKERS = ["AAPL", "GOOG", "INTC", "BRCM", "YHOO"]


def stocks(days: int = 1000) -> dict[str, dict[str, np.ndarray]]:
    """Daily closing prices (geometric random walks, partly correlated) per ticker: {date, close}."""
    rng = np.random.default_rng(2000)
    dates = np.datetime64("2010-01-04") + np.arange(days)
    market = rng.normal(0, 0.01, days)
    out = {}
    for k, ticker in enumerate(TICKERS):
        own = rng.normal(0.0004 * (k - 1), 0.015, days)
        price = 30 * (k + 1) * np.exp(np.cumsum(0.6 * market + own))
        out[ticker] = {"date": dates, "close": np.round(price, 2)}
    return out


GENRES = ["Action", "Adventure", "Animation", "Biography", "Comedy", "Crime", "Documentary", "Drama", "Family",
          "Fantasy", "History", "Horror", "Music", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
          "Western"]  # fmt: skip
_WORDS = ["Night", "River", "Iron", "Summer", "Last", "Silent", "Golden", "Lost", "City", "Star", "Winter", "Red",
          "Road", "Empire", "Garden", "Shadow", "Ocean", "Secret", "Wild", "Glass"]  # fmt: skip
_NAMES = ["Ada Park", "Ben Ortiz", "Cleo Hart", "Dev Rao", "Eli Stone", "Fay Lin", "Gus Moreau", "Hana Sato",
          "Ivo Novak", "Jun Abe", "Kai Berg", "Lea Costa"]  # fmt: skip


def movies(n: int = 1500) -> dict[str, np.ndarray | list[str]]:
    """Movies: title, year, genre, director, cast, reviews, meter, rating, box office, oscars."""
    rng = np.random.default_rng(1999)
    year = rng.integers(1970, 2015, n)
    reviews = np.round(rng.lognormal(3.5, 1.0, n)).astype(np.int64)
    meter = np.clip(np.round(rng.beta(4, 3, n) * 100), 0, 100)
    rating = np.round(np.clip(meter / 11 + rng.normal(0, 0.8, n), 1, 10), 1)
    box = np.round(rng.lognormal(17, 1.4, n))
    oscars = rng.choice([0, 0, 0, 0, 0, 0, 1, 2, 3], size=n)
    title = [
        f"The {_WORDS[rng.integers(20)]} {_WORDS[rng.integers(20)]} {i % 7 + 1 if i % 5 == 0 else ''}".strip()
        for i in range(n)
    ]
    genre = [", ".join(sorted(set(rng.choice(GENRES, size=rng.integers(1, 3), replace=False)))) for _ in range(n)]
    director = [_NAMES[i] for i in rng.integers(0, len(_NAMES), n)]
    cast = [", ".join(rng.choice(_NAMES, size=3, replace=False)) for _ in range(n)]
    return {"title": title, "year": year.astype(np.float64), "genre": genre, "director": director, "cast": cast,
            "reviews": reviews.astype(np.float64), "meter": meter, "rating": rating, "box_office": box,
            "oscars": oscars.astype(np.float64)}  # fmt: skip


CITIES = {"Austin": (20.5, 9.0), "Boston": (11.0, 13.0), "Seattle": (11.5, 7.0)}


def weather(city: str, year: int = 2022) -> dict[str, np.ndarray]:
    """Daily temperatures of one city for a year: record/average min and max, and actual min and max (°F)."""
    mean, swing = CITIES[city]
    rng = np.random.default_rng(sum(map(ord, city)))
    days = np.datetime64(f"{year}-01-01") + np.arange(365)
    season = mean - swing * np.cos(2 * np.pi * (np.arange(365) - 15) / 365)
    f = lambda c: c * 9 / 5 + 32  # noqa: E731
    avg_min, avg_max = f(season - 5), f(season + 5)
    actual_min = avg_min + rng.normal(0, 5, 365)
    actual_max = np.maximum(actual_min + 4, avg_max + rng.normal(0, 5, 365))
    record_min = avg_min - 18 - rng.uniform(0, 4, 365)
    record_max = avg_max + 18 + rng.uniform(0, 4, 365)
    return {"date": days, "record_min": record_min, "record_max": record_max, "average_min": avg_min,
            "average_max": avg_max, "actual_min": actual_min, "actual_max": actual_max}  # fmt: skip


def salaries(n: int = 300) -> dict[str, np.ndarray | list[str]]:
    """People: name, salary, years of experience."""
    rng = np.random.default_rng(42)
    years = np.round(rng.uniform(0, 30, n), 1)
    salary = np.round(40_000 + years * 2_500 + rng.normal(0, 12_000, n), -2)
    first = ["Amy", "Bo", "Cy", "Di", "Ed", "Flo", "Gil", "Hal", "Ida", "Jo"]
    return {
        "name": [f"{first[i % 10]} {chr(65 + (i * 7) % 26)}." for i in range(n)],
        "salary": salary,
        "years_experience": years,
    }

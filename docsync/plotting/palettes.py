"""The standard palettes as data: lists of "#rrggbb" strings, by name and by size.

``Viridis256``, ``Category10_10``, ``Viridis[7]`` (a dict by size, as in Bokeh),
``viridis(n)`` (n colours spread over the ramp), ``linear_palette(palette, n)``.
"""

from __future__ import annotations

from .palette_data import RAMPS

__all__ = [
    "Blues9",
    "Category10",
    "Category10_10",
    "Category20",
    "Category20_20",
    "Category20b_20",
    "Category20c_20",
    "Cividis",
    "Cividis256",
    "Colorblind",
    "Colorblind8",
    "Greens9",
    "Greys256",
    "Inferno",
    "Inferno256",
    "Magma",
    "Magma256",
    "Plasma",
    "Plasma256",
    "RdBu11",
    "RdYlGn11",
    "Reds9",
    "Spectral11",
    "Turbo256",
    "Viridis",
    "Viridis256",
    "YlOrRd9",
    "cividis",
    "inferno",
    "linear_palette",
    "magma",
    "plasma",
    "turbo",
    "viridis",
]


def _colors(name: str) -> list[str]:
    packed = RAMPS[name]
    return [f"#{packed[i : i + 6]}" for i in range(0, len(packed), 6)]


def linear_palette(palette: list[str], n: int) -> list[str]:
    """Return ``n`` colours spread evenly over ``palette`` (ends included)."""
    if not 0 < n <= len(palette):
        raise ValueError(f"need 1..{len(palette)} colours, got {n}")
    if n == 1:
        return [palette[0]]
    return [palette[round(i * (len(palette) - 1) / (n - 1))] for i in range(n)]


Viridis256 = _colors("Viridis256")
Magma256 = _colors("Magma256")
Inferno256 = _colors("Inferno256")
Plasma256 = _colors("Plasma256")
Cividis256 = _colors("Cividis256")
Turbo256 = _colors("Turbo256")
Greys256 = _colors("Greys256")
Category10_10 = _colors("Category10")
Category20_20 = _colors("Category20")
Category20b_20 = _colors("Category20b")
Category20c_20 = _colors("Category20c")
Colorblind8 = _colors("Colorblind")
Spectral11 = _colors("Spectral11")
RdBu11 = _colors("RdBu11")
RdYlGn11 = _colors("RdYlGn11")
Blues9 = _colors("Blues9")
Greens9 = _colors("Greens9")
Reds9 = _colors("Reds9")
YlOrRd9 = _colors("YlOrRd9")


def _by_size(ramp: list[str], sizes: range) -> dict[int, list[str]]:
    return {n: linear_palette(ramp, n) for n in sizes}


Viridis = _by_size(Viridis256, range(3, 12)) | {256: Viridis256}
Magma = _by_size(Magma256, range(3, 12)) | {256: Magma256}
Inferno = _by_size(Inferno256, range(3, 12)) | {256: Inferno256}
Plasma = _by_size(Plasma256, range(3, 12)) | {256: Plasma256}
Cividis = _by_size(Cividis256, range(3, 12)) | {256: Cividis256}
# Categorical palettes take their first n colours, not a spread.
Category10 = {n: Category10_10[:n] for n in range(3, 11)}
Category20 = {n: Category20_20[:n] for n in range(3, 21)}
Colorblind = {n: Colorblind8[:n] for n in range(3, 9)}


def viridis(n: int) -> list[str]:
    """Return ``n`` colours of Viridis."""
    return linear_palette(Viridis256, n)


def magma(n: int) -> list[str]:
    """Return ``n`` colours of Magma."""
    return linear_palette(Magma256, n)


def inferno(n: int) -> list[str]:
    """Return ``n`` colours of Inferno."""
    return linear_palette(Inferno256, n)


def plasma(n: int) -> list[str]:
    """Return ``n`` colours of Plasma."""
    return linear_palette(Plasma256, n)


def cividis(n: int) -> list[str]:
    """Return ``n`` colours of Cividis."""
    return linear_palette(Cividis256, n)


def turbo(n: int) -> list[str]:
    """Return ``n`` colours of Turbo."""
    return linear_palette(Turbo256, n)

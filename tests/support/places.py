"""Where e2e tests put their children's homes: random points in the South East, and the
``near`` filter (``"lat,lon"``) for one."""

from __future__ import annotations

SOUTH_EAST = ((50.85, 51.45), (-0.9, 1.3))  # lat, lon ranges


def near(point: tuple[float, float]) -> str:
    """``"lat,lon"`` in fixed decimals: a coordinate close to 0 would print as ``3e-05``,
    which the API refuses (only plain decimals, API.md)."""
    return f"{point[0]:.6f},{point[1]:.6f}"


def random_home(rng) -> tuple[float, float]:
    """A random point in the South East (``rng``: a ``random.Random``)."""
    return rng.uniform(*SOUTH_EAST[0]), rng.uniform(*SOUTH_EAST[1])

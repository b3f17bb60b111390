"""The day of the year's maximum at every grid point of a seasonal field, drawn as a map.

Run: ``python examples/day_of_maximum.py [MAP.png]`` (the map needs ``pip install 'ooc[plot]'``).
A synthetic year of daily temperatures peaks at a day that moves with latitude and longitude; the
field is written to a Zarr store as xarray writes it (dimension names time, lat, lon), and
``ooc.argmax`` along time gives the day of the maximum at every grid point, in one pass over the
chunks.  The answer is checked against the planted peak days.
"""
import os
import sys
import tempfile

import numpy as np
import zarr

import ooc


def seasonal_field(days=365, nlat=90, nlon=180, seed=0):
    """Daily temperatures whose yearly cycle peaks on a day set by latitude and longitude."""
    lat = np.linspace(-89, 89, nlat)
    lon = np.linspace(-179, 179, nlon)
    peak = (200 + 60 * np.sin(np.radians(lat))[:, None] + 20 * np.cos(np.radians(lon))[None, :])
    peak = np.round(peak).astype(int)
    day = np.arange(days)[:, None, None]
    field = 15 + 10 * np.cos(2 * np.pi * (day - peak) / days)
    field += np.random.default_rng(seed).normal(0, 0.05, field.shape)  # far below the cycle
    field[peak[None] == day] += 1.0                                    # the planted maxima
    return field.astype("f4"), peak, lat, lon


def main(picture=None):
    field, peak, lat, lon = seasonal_field()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "seasonal.zarr")
        g = zarr.open_group(path, mode="w")
        t = g.create_array("t2m", shape=field.shape, chunks=(73, 45, 90), dtype="f4",
                           dimension_names=("time", "lat", "lon"))
        t[:] = field
        a = ooc.open(path, path="t2m")
        when = ooc.argmax(a, axis=0).compute()           # day of the maximum, per grid point
        assert np.array_equal(when, peak), "not the planted days"
        print(f"day of the maximum: from day {when.min()} to day {when.max()}; "
              f"all {when.size} grid points equal the planted peak days")
    if picture:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4.2), constrained_layout=True)
        im = ax.pcolormesh(lon, lat, when, cmap="twilight", shading="auto")
        fig.colorbar(im, ax=ax, label="day of the year of the maximum")
        ax.set_title("ooc.argmax(t2m, axis=0): the day of the maximum")
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        fig.savefig(picture, dpi=90)
        print(f"map drawn in {picture}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

"""Coordinates and value of the global maximum of a store, with unravel_index.

Run: ``python examples/global_max_coords.py``.  ``ooc.max_argmax`` gives the maximum and its
flat index from one pass over the data; ``ooc.unravel_index`` turns the flat index into one
coordinate per axis, which can then label the answer (here: time, latitude, longitude).
"""
import os
import tempfile

import dask
import numpy as np
import zarr

import ooc


def main():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "climate.zarr")
        g = zarr.open_group(path, mode="w")
        t = g.create_array("t2m", shape=(12, 181, 360), chunks=(3, 64, 120), dtype="f4")
        rng = np.random.default_rng(2)
        data = 280 + 20 * rng.standard_normal((12, 181, 360)).astype("f4")
        data[7, 40, 300] = 420.0
        data[2, 100, 10] = np.nan            # a missing value
        t[:] = data

        a = ooc.open(path, path="t2m")
        value, index = ooc.max_argmax(a, skipna=True)         # one pass, NaN ignored
        value, index = dask.compute(value, index)
        month, ilat, ilon = (int(c) for c in ooc.unravel_index(int(index), a.shape))
        lat, lon = 90 - ilat, ilon - 180
        print(f"hottest: {float(value):.1f} K in month {month + 1}, at lat {lat}, lon {lon} "
              f"(flat index {int(index)})")
        assert (month, ilat, ilon) == (7, 40, 300)

        # argmax (not nanargmax) treats NaN as the maximum, exactly like numpy:
        i = int(ooc.argmax(a).compute())
        print("argmax with NaN present points at the NaN:",
              tuple(int(c) for c in ooc.unravel_index(i, a.shape)))


if __name__ == "__main__":
    main()

"""Argmax over a Zarr store on disk, by path, without loading it into memory.

Run: ``python examples/argmax_store.py``.  Creates a small store in a temporary directory (in real
use it would already exist, possibly far larger than memory), then reduces it.
"""
import os
import tempfile

import numpy as np
import zarr

import ooc


def make_store(path):
    """A (24, 500, 400) float32 store in chunks of (8, 128, 128), with a known maximum."""
    rng = np.random.default_rng(0)
    z = zarr.create_array(path, shape=(24, 500, 400), chunks=(8, 128, 128), dtype="f4")
    for i in range(0, 24, 8):          # write slab by slab, as a producer of big data would
        z[i:i + 8] = rng.random((8, 500, 400), dtype="f4")
    z[17, 321, 123] = 5.0
    return path


def main():
    with tempfile.TemporaryDirectory() as d:
        path = make_store(os.path.join(d, "field.zarr"))

        # A store path works directly; so do ooc.open(...) results and zarr.Array objects.
        i = int(ooc.argmax(path).compute())
        print("flat index of the maximum:", i)
        print("its coordinates:", tuple(int(c) for c in np.unravel_index(i, (24, 500, 400))))

        # Along an axis the result is a lazy Dask array; small ones can simply be computed.
        a = ooc.open(path)                 # read-only, one Dask chunk per stored chunk
        per_time = ooc.argmax(a, axis=0).compute()
        print("argmax along axis 0:", per_time.shape, per_time.dtype, "value at (321, 123):",
              int(per_time[321, 123]))
        assert i == 17 * 500 * 400 + 321 * 400 + 123 and per_time[321, 123] == 17


if __name__ == "__main__":
    main()

"""Write a reduction whose result is itself large into a Zarr store, chunk by chunk.

Run: ``python examples/large_result_to_zarr.py``.  The argmax along axis 0 of a
(T, Y, X) store is a (Y, X) array of indices; for real data (say (64, 40000, 40000)) that is
12.8 GB, so it goes to disk with ``out=`` instead of into memory.  The output array is made by
``ooc.create_result``: its chunks follow the input's chunk grid and its attributes record
what was computed and from which store.
"""
import os
import tempfile

import numpy as np
import zarr

import ooc


def main():
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "input.zarr")
        z = zarr.create_array(src, shape=(16, 1024, 1024), chunks=(4, 256, 256), dtype="f4")
        rng = np.random.default_rng(1)
        for i in range(0, 16, 4):
            z[i:i + 4] = rng.random((4, 1024, 1024), dtype="f4")

        a = ooc.open(src)
        result = ooc.create_result(os.path.join(d, "argmax_t.zarr"), a, function="argmax",
                                         axis=0)
        print("result array:", result.shape, result.dtype, "chunks", result.chunks)
        ooc.argmax(a, axis=0, out=result)      # computed and written chunk by chunk
        print("attributes:", {k: v for k, v in result.attrs["ooc"].items()
                              if k in ("function", "axis", "source_store", "version")})

        # check a corner against numpy on just that region
        back = zarr.open_array(os.path.join(d, "argmax_t.zarr"), mode="r")
        np.testing.assert_array_equal(back[:100, :100], np.argmax(z[:, :100, :100], axis=0))
        print("a 100x100 corner matches numpy")


if __name__ == "__main__":
    main()

"""Dimension names and coordinate labels of a store's array, as xarray writes them.

Zarr v3 keeps dimension names in the array metadata (``dimension_names``), Zarr v2 in the
``_ARRAY_DIMENSIONS`` attribute; a dimension's coordinate is the 1-d array of that name beside
the variable, CF-encoded times (``units: days since ...``) decoded as xarray decodes them.
"""
from __future__ import annotations

import numpy as np

from ..errors import StoreError

__all__ = ["dimension_names", "coordinate", "parent_group"]


def dimension_names(z) -> tuple | None:
    """The dimension names of zarr array ``z``, or None when it has none.

    Examples
    --------
    >>> import zarr
    >>> z = zarr.create_array("memory://doc-dims", shape=(2, 3), dtype="i1", overwrite=True,
    ...                       dimension_names=("y", "x"))
    >>> dimension_names(z)
    ('y', 'x')
    """
    names = getattr(z.metadata, "dimension_names", None)
    if names is None:
        names = z.attrs.get("_ARRAY_DIMENSIONS")
    if not names or len(names) != len(z.shape) or any(n is None for n in names):
        return None
    return tuple(str(n) for n in names)


def parent_group(z):
    """The zarr group holding array ``z`` (read-only), or None for an array at a store's root."""
    import zarr

    path = z.store_path.path.strip("/")
    if not path:
        return None
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    try:
        return zarr.open_group(store=z.store_path.store, path=parent, mode="r")
    except Exception:
        return None


def coordinate(z, dim):
    """The coordinate labels of dimension ``dim`` of array ``z``: the 1-d array named ``dim`` in
    the same group, CF times decoded (with xarray); None when the group has no such array."""
    group = parent_group(z)
    if group is None or dim not in group:
        return None
    c = group[dim]
    names = dimension_names(z)
    size = z.shape[names.index(dim)] if names and dim in names else None
    if len(c.shape) != 1 or (size is not None and c.shape[0] != size):
        return None
    values = c[:]
    attrs = dict(c.attrs)
    if "units" in attrs and "since" in str(attrs["units"]):
        try:
            import xarray as xr
        except ImportError:
            raise StoreError(f"coordinate {dim!r} holds CF-encoded times ({attrs['units']}); "
                             "decoding them needs xarray: pip install 'ooc[xarray]'") from None
        encoded = xr.Dataset({dim: ((dim,), values, {k: v for k, v in attrs.items()
                                                      if k != "_ARRAY_DIMENSIONS"})})
        values = xr.decode_cf(encoded)[dim].values
    return np.asarray(values)

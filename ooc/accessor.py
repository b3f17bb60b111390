"""The xarray accessor ``DataArray.ooc``: ooc's reductions by dimension name.

``da.ooc.argmax(dim=...)``, ``argmin``, ``nanargmax``, ``nanargmin``, ``idxmax``, ``idxmin``,
``logsumexp``, ``softmax`` and ``soft_argmax`` give xarray's answers (``top_k`` and ``idx_top_k``,
which xarray lacks, follow the same conventions) (names, coordinates,
attributes, the dict of index arrays per dimension for several dimensions), computed by ooc: one
pass over the chunks, several dimensions at once through a tuple ``axis`` and
:func:`ooc.unravel_index`, with no stack, reshape or rechunk of the data in the graph (xarray's
own ``argmax(dim=[...])`` stacks the dimensions, which merges chunks).

xarray is an optional extra.  Importing this module (``import ooc`` does) registers the accessor
at once when xarray is already imported, and otherwise when xarray gets imported, so ``import
ooc`` never pays for importing xarray and pandas.
"""
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from functools import partial

import numpy as np

from . import api
from .axes import normalize_axis

__all__ = ["OocAccessor", "register", "install"]

_NA = object()   # idxmax's default fill_value: xarray's missing value for the labels' dtype


def _dims(da, dim):
    """``(dims, several)`` from one name, a sequence of names or ``...``."""
    if dim is ...:
        return tuple(da.dims), True
    if isinstance(dim, str) or not isinstance(dim, Sequence):
        return (dim,), False
    return tuple(dim), True


def _axes(da, dims):
    axes = tuple(da.get_axis_num(d) for d in dims)   # xarray's error for a missing dim
    return normalize_axis(axes, da.ndim) if axes else axes


def _data(da):
    """The Dask array of ``da`` (chunked first if it is in memory or lazily indexed)."""
    if da.chunks is None:
        da = da.chunk()
    return da.data


def _keep_attrs(keep_attrs):
    """xarray's choice for reductions when ``keep_attrs`` is None (its default and options)."""
    if keep_attrs is not None:
        return bool(keep_attrs)
    import xarray as xr

    probe = xr.DataArray(np.zeros(1), dims="d", attrs={"k": 0})
    return bool(probe.argmax("d").attrs)


def _wrap(da, data, dims, name, attrs):
    """A DataArray of ``data`` over ``dims`` with the coordinates of ``da`` that fit them."""
    import xarray as xr

    coords = {k: v.variable for k, v in da.coords.items() if set(v.dims) <= set(dims)}
    out = xr.DataArray(data, dims=dims, coords=coords, attrs=attrs)
    out.name = name   # (the constructor would take a nameless result's name from the Dask array)
    return out


def _finish(da, out):
    """In-memory input gives in-memory results, as in xarray (one compute for a dict)."""
    if da.chunks is not None:
        return out
    import dask

    if isinstance(out, dict):
        return dict(zip(out, dask.compute(*out.values())))
    return out.compute()


def _labels(index, *, coord):
    """Coordinate labels at ``index`` (index -1, all-NaN, gives the first label; masked later)."""
    return coord[np.maximum(index, 0)]


def _clip0(index):
    return np.maximum(index, 0)


class OocAccessor:
    """``DataArray.ooc``: argmax-family reductions, logsumexp and soft-argmax by dimension name.

    Every method gives xarray's answer where xarray has the method, lazily (Dask-backed) for a
    chunked DataArray (``xr.open_zarr``, ``.chunk()``) and computed for an in-memory one, as
    xarray does.  ``dim`` is one name, a sequence of names or ``...`` (all dimensions); several
    dimensions give a dict of results per dimension, as xarray's ``argmax`` does.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> import ooc.accessor  # done by ``import ooc``
    >>> t = xr.DataArray(np.array([[3.0, 9.0, 4.0], [7.0, 1.0, 8.0]]), dims=("x", "y"),
    ...                  coords={"x": [10, 20], "y": [0.5, 1.5, 2.5]}, name="t")
    >>> t.ooc.argmax("y").values
    array([1, 2])
    >>> {d: int(i) for d, i in t.ooc.argmax(["x", "y"]).items()}
    {'x': 0, 'y': 1}
    >>> t.ooc.idxmax("y").values
    array([1.5, 2.5])
    >>> t.ooc.logsumexp("y").values.round(4)
    array([9.0092, 8.3139])
    """

    def __init__(self, obj):
        self._obj = obj

    # -- indices --------------------------------------------------------------------------

    def _arg(self, name, dim, keep_attrs, split_every):
        da = self._obj
        if dim is None:   # xarray: the flat index over all dimensions (the index, for 1-d)
            dims, several, axis = tuple(da.dims), False, None
        else:
            dims, several = _dims(da, dim)
            axis = _axes(da, dims)
        flat = getattr(api, name)(_data(da), axis=axis, split_every=split_every)
        rest = tuple(d for d in da.dims if d not in dims)
        attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        if not several:
            return _finish(da, _wrap(da, flat, rest, da.name, attrs))
        coords = api.unravel_index(flat, [da.sizes[d] for d in dims])
        return _finish(da, {d: _wrap(da, c, rest, da.name, dict(attrs))
                            for d, c in zip(dims, coords)})

    def _skips(self, skipna):
        return bool(skipna) or (skipna is None and self._obj.dtype.kind in "cfO")

    def argmax(self, dim=None, *, skipna=None, keep_attrs=None, split_every=None):
        """Indices of the maximum along ``dim``, like :meth:`xarray.DataArray.argmax`.

        Parameters
        ----------
        dim : str, sequence of str or ..., optional
            One name gives a DataArray of indices; several names (or ``...``) a dict of
            DataArrays, one per dimension, that ``da.isel`` accepts.  None gives the flat
            C-order index over all dimensions (xarray's current answer for ``dim=None``).
        skipna : bool, optional
            Skip NaN (default: for float and complex data, as xarray does).  A slice of only
            NaN then raises ``ValueError("All-NaN slice encountered")`` when computed.
        keep_attrs : bool, optional
            Copy ``attrs`` to the result (default: xarray's default for reductions).
        split_every : int, optional
            Partial results per task in ooc's tree reduction.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> da = xr.DataArray(np.arange(24.0).reshape(2, 3, 4) % 7, dims=("t", "y", "x"))
        >>> da.ooc.argmax("x").values
        array([[3, 2, 3],
               [1, 3, 0]])
        >>> idx = da.ooc.argmax(["y", "x"])
        >>> list(idx), idx["y"].values, idx["x"].values
        (['y', 'x'], array([1, 0]), array([2, 1]))
        >>> da.isel(idx).values
        array([6., 6.])
        """
        name = "nanargmax" if self._skips(skipna) else "argmax"
        return self._arg(name, dim, keep_attrs, split_every)

    def argmin(self, dim=None, *, skipna=None, keep_attrs=None, split_every=None):
        """Indices of the minimum along ``dim``, like :meth:`xarray.DataArray.argmin`.

        Parameters as for :meth:`argmax`.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> da = xr.DataArray([[4.0, np.nan, 1.0], [2.0, 0.5, 3.0]], dims=("x", "y"))
        >>> da.ooc.argmin("y").values
        array([2, 1])
        >>> da.ooc.argmin("y", skipna=False).values
        array([1, 1])
        """
        name = "nanargmin" if self._skips(skipna) else "argmin"
        return self._arg(name, dim, keep_attrs, split_every)

    def nanargmax(self, dim=None, *, keep_attrs=None, split_every=None):
        """:meth:`argmax` with ``skipna=True``, for any dtype.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> xr.DataArray([np.nan, 2.0, 5.0], dims="x").ooc.nanargmax("x").values
        array(2)
        """
        return self._arg("nanargmax", dim, keep_attrs, split_every)

    def nanargmin(self, dim=None, *, keep_attrs=None, split_every=None):
        """:meth:`argmin` with ``skipna=True``, for any dtype.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> xr.DataArray([np.nan, 2.0, 5.0], dims="x").ooc.nanargmin("x").values
        array(1)
        """
        return self._arg("nanargmin", dim, keep_attrs, split_every)

    # -- coordinate labels ----------------------------------------------------------------

    def _idx(self, op, dim, skipna, fill_value, keep_attrs, split_every):
        da = self._obj
        if not da.ndim:
            raise ValueError("This function does not apply for scalars")
        if dim is None:
            if da.ndim != 1:
                raise ValueError("Must supply 'dim' argument for multidimensional arrays")
            dims, several = (da.dims[0],), False
        else:
            dims, several = _dims(da, dim)
        for d in dims:
            if d not in da.dims:
                raise KeyError(f"Dimension {d!r} not found in array dimensions {da.dims!r}")
            if d not in da.coords:
                raise KeyError(f"Dimension {d!r} is not one of the coordinates "
                               f"{tuple(da.coords.keys())}")
        skips = self._skips(skipna)
        # one pass; unlike ooc.nanargmax an all-NaN slice gives -1 (xarray fills it afterwards)
        name = f"nanarg{op}-or-missing" if skips else f"arg{op}"
        _, flat = api.reduce(name, _data(da), _axes(da, dims), split_every=split_every)
        rest = tuple(d for d in da.dims if d not in dims)
        attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        if len(dims) > 1:
            indices = api.unravel_index(flat.map_blocks(_clip0, dtype=np.intp),
                                        [da.sizes[d] for d in dims])
        else:
            indices = (flat,)
        found = _wrap(da, flat >= 0, rest, None, {})
        out = {}
        for d, index in zip(dims, indices):
            coord = np.asarray(da[d].values)
            labels = index.map_blocks(partial(_labels, coord=coord), dtype=coord.dtype)
            res = _wrap(da, labels, rest, d, {})
            if skips:   # xarray puts its missing value (or fill_value) where all was NaN
                res = res.where(found) if fill_value is _NA else res.where(found, fill_value)
            res.attrs = dict(attrs)
            out[d] = res
        return _finish(da, out if several else out[dims[0]])

    def idxmax(self, dim=None, *, skipna=None, fill_value=_NA, keep_attrs=None,
               split_every=None):
        """Coordinate labels of the maximum along ``dim``, like :meth:`xarray.DataArray.idxmax`.

        Parameters
        ----------
        dim : str, sequence of str or ..., optional
            One name gives a DataArray of labels (named after the dimension); several names
            (or ``...``), which xarray does not offer, a dict of label arrays per dimension.
            May be omitted for 1-d arrays.
        skipna : bool, optional
            Skip NaN (default: for float and complex data).  Where a slice is all NaN the
            result holds ``fill_value`` (default: the missing value of the labels' dtype,
            promoting it as xarray does).
        fill_value : optional
        keep_attrs : bool, optional
        split_every : int, optional

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> da = xr.DataArray([[1.0, 5.0, 2.0], [np.nan, np.nan, np.nan]], dims=("x", "y"),
        ...                   coords={"y": [10, 20, 30]})
        >>> da.ooc.idxmax("y").values
        array([20., nan])
        >>> da.ooc.idxmax("y", fill_value=-1).values
        array([20, -1])
        """
        return self._idx("max", dim, skipna, fill_value, keep_attrs, split_every)

    def idxmin(self, dim=None, *, skipna=None, fill_value=_NA, keep_attrs=None,
               split_every=None):
        """Coordinate labels of the minimum along ``dim``, like :meth:`xarray.DataArray.idxmin`.

        Parameters as for :meth:`idxmax`.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> da = xr.DataArray([[4, 2, 9], [0, 3, 1]], dims=("x", "y"),
        ...                   coords={"x": ["a", "b"], "y": [10, 20, 30]})
        >>> da.ooc.idxmin("y").values
        array([20, 10])
        >>> {d: v.values.item() for d, v in da.ooc.idxmin(...).items()}
        {'x': 'b', 'y': 10}
        """
        return self._idx("min", dim, skipna, fill_value, keep_attrs, split_every)

    # -- top k ----------------------------------------------------------------------------

    def _top_k(self, dim, k, mode, skipna, fill_index, split_every):
        da = self._obj
        dims, _ = _dims(da, dim)
        axes = _axes(da, dims)
        values, indices = api.top_k(_data(da), k, axis=axes, mode=mode, skipna=skipna,
                                    fill_index=fill_index, split_every=split_every)
        rest = tuple(d for d in da.dims if d not in dims)
        at = min(axes)
        return dims, values, indices, rest[:at] + ("rank",) + rest[at:]

    def top_k(self, dim, k, *, mode="largest", skipna=False, fill_index=None, keep_attrs=None,
              split_every=None):
        """The ``k`` largest (or smallest) values along ``dim`` and their positions, as
        :func:`ooc.top_k`, in a Dataset.

        Parameters
        ----------
        dim : str or sequence of str
            One name, or several: the positions are then flat C-order indices over them, in the
            order given.
        k : int
        mode : {"largest", "smallest"}, optional
        skipna, fill_index, split_every : optional
            As for :func:`ooc.top_k` (NaN comes last either way; ``skipna`` refuses it).
        keep_attrs : bool, optional
            Copy ``attrs`` to the ``values`` variable.

        Returns
        -------
        xarray.Dataset
            Variables ``values`` (``da``'s dtype) and ``indices`` (positions along ``dim``),
            with a new dimension ``rank`` (coordinate 0..k-1, best first) in place of ``dim``
            (of the first of several dimensions), and ``da``'s coordinates on the other
            dimensions.  Read them as ``ds["values"]``: ``ds.values`` is the Mapping method.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> t = xr.DataArray([[3.0, 9.0, 4.0, 9.5], [7.0, 1.0, 8.0, 0.0]], dims=("x", "day"),
        ...                  coords={"x": [10, 20], "day": [1, 2, 3, 4]}, name="t")
        >>> ds = t.ooc.top_k("day", 2)
        >>> ds["values"].dims, ds["rank"].values
        (('x', 'rank'), array([0, 1]))
        >>> ds["indices"].values
        array([[3, 1],
               [2, 0]])
        >>> t.ooc.top_k("x", 1, mode="smallest")["values"].values
        array([[3., 1., 4., 0.]])
        """
        import xarray as xr

        da = self._obj
        dims, values, indices, out_dims = self._top_k(dim, k, mode, skipna, fill_index,
                                                      split_every)
        coords = {n: v.variable for n, v in da.coords.items() if not set(v.dims) & set(dims)}
        attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        ds = xr.Dataset({"values": xr.Variable(out_dims, values, attrs),
                         "indices": xr.Variable(out_dims, indices)},
                        coords={**coords, "rank": np.arange(indices.shape[out_dims.index("rank")])})
        return ds if da.chunks is not None else ds.compute()

    def idx_top_k(self, dim, k, *, mode="largest", skipna=False, fill_value=_NA, keep_attrs=None,
                  split_every=None):
        """Coordinate labels of ``dim`` at the ``k`` largest (or smallest) values, best first,
        on a new dimension ``rank`` in place of ``dim`` (as :meth:`idxmax` for k of them).

        With ``skipna``, where a slice has fewer than ``k`` non-NaN values the missing places
        hold ``fill_value`` (default: xarray's missing value for the labels' dtype).

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> t = xr.DataArray([[3.0, 9.0, np.nan], [7.0, 1.0, 8.0]], dims=("x", "day"),
        ...                  coords={"day": [10, 20, 30]})
        >>> t.ooc.idx_top_k("day", 2).values
        array([[20, 10],
               [30, 10]])
        >>> t.ooc.idx_top_k("day", 3, skipna=True).values
        array([[20., 10., nan],
               [30., 10., 20.]])
        """
        da = self._obj
        if not isinstance(dim, str):
            raise ValueError("idx_top_k takes one dimension name")
        if dim not in da.dims:
            raise KeyError(f"Dimension {dim!r} not found in array dimensions {da.dims!r}")
        if dim not in da.coords:
            raise KeyError(f"Dimension {dim!r} is not one of the coordinates "
                           f"{tuple(da.coords.keys())}")
        _, _, indices, out_dims = self._top_k(dim, k, mode, skipna, -1 if skipna else None,
                                              split_every)
        coord = np.asarray(da[dim].values)
        labels = indices.map_blocks(partial(_labels, coord=coord), dtype=coord.dtype)
        res = _wrap(da, labels, out_dims, dim, {})
        if skipna:
            found = _wrap(da, indices >= 0, out_dims, None, {})
            res = res.where(found) if fill_value is _NA else res.where(found, fill_value)
        res = res.assign_coords(rank=np.arange(indices.shape[out_dims.index("rank")]))
        res.attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        return _finish(da, res)

    # -- logsumexp, softmax, soft-argmax --------------------------------------------------

    def _reduced(self, dim):
        da = self._obj
        if dim is None or dim is ...:
            return tuple(da.dims), None
        dims, _ = _dims(da, dim)
        return dims, _axes(da, dims)

    def logsumexp(self, dim=None, *, keep_attrs=None, split_every=None):
        """``log(sum(exp(da)))`` over ``dim`` (default: all), as :func:`ooc.logsumexp`.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> da = xr.DataArray([[0.0, 0.0], [1000.0, 1000.0]], dims=("x", "y"), name="s")
        >>> [round(float(v), 6) for v in da.ooc.logsumexp("y")]
        [0.693147, 1000.693147]
        >>> float(da.ooc.logsumexp())
        1000.6931471805599
        """
        da = self._obj
        dims, axis = self._reduced(dim)
        out = api.logsumexp(_data(da), axis=axis, split_every=split_every)
        rest = tuple(d for d in da.dims if d not in dims)
        attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        return _finish(da, _wrap(da, out, rest, da.name, attrs))

    def softmax(self, dim=None, *, keep_attrs=None, split_every=None):
        """``exp(da) / sum(exp(da))`` over ``dim`` (default: all), as :func:`ooc.softmax`;
        same dimensions and coordinates as ``da``.

        Examples
        --------
        >>> import xarray as xr
        >>> import ooc.accessor
        >>> xr.DataArray([[1.0, 1.0], [0.0, 2.0]], dims=("x", "y")).ooc.softmax("y").values.round(4)
        array([[0.5   , 0.5   ],
               [0.1192, 0.8808]])
        """
        da = self._obj
        _, axis = self._reduced(dim)
        out = da.copy(data=api.softmax(_data(da), axis=axis, split_every=split_every))
        out.attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        return _finish(da, out)

    def soft_argmax(self, dim=None, *, beta=1.0, keep_attrs=None, split_every=None):
        """The expected index along ``dim`` under ``softmax(beta * da)``, as
        :func:`ooc.soft_argmax`.

        One name gives a float DataArray; several names (or ``...``) a dict of them per
        dimension, computed in one pass.  ``dim`` may be omitted for 1-d arrays.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> import ooc.accessor
        >>> da = xr.DataArray([0.1, 0.3, 0.6, 2.1, 0.55], dims="x")
        >>> round(float(da.ooc.soft_argmax()), 3)
        2.569
        >>> heat = xr.DataArray(np.zeros((5, 7)), dims=("row", "col"))
        >>> heat[1:4, 3:6] = 10.0
        >>> {d: round(float(v), 3) for d, v in heat.ooc.soft_argmax(...).items()}
        {'row': 2.0, 'col': 4.0}
        """
        da = self._obj
        if dim is None:
            if da.ndim != 1:
                raise ValueError("Must supply 'dim' argument for multidimensional arrays")
            dim = da.dims[0]
        dims, several = _dims(da, dim)
        axes = _axes(da, dims)
        rest = tuple(d for d in da.dims if d not in dims)
        attrs = dict(da.attrs) if _keep_attrs(keep_attrs) else {}
        data = _data(da)
        if not several:
            out = api.soft_argmax(data, axis=axes[0], beta=beta, split_every=split_every)
            return _finish(da, _wrap(da, out, rest, da.name, attrs))
        out = api.soft_argmax(data, axis=axes, beta=beta, split_every=split_every)
        return _finish(da, {d: _wrap(da, out[..., j], rest, da.name, dict(attrs))
                            for j, d in enumerate(dims)})


def register():
    """Register :class:`OocAccessor` as ``xarray.DataArray.ooc`` (once; imports xarray)."""
    import xarray as xr

    if getattr(xr.DataArray, "ooc", None) is not OocAccessor:
        xr.register_dataarray_accessor("ooc")(OocAccessor)


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """Registers the accessor right after xarray is first imported, then steps aside.

    It finds xarray's spec with the other finders and wraps its loader, so a mere
    ``importlib.util.find_spec("xarray")`` elsewhere changes nothing."""

    def find_spec(self, name, path=None, target=None):
        if name != "xarray":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            register()

        loader.exec_module = exec_then_register
        return spec


def install():
    """Register the accessor now if xarray is imported, else as soon as it is; nothing when
    xarray is not installed.  Never imports xarray itself."""
    if "xarray" in sys.modules:
        register()
    elif importlib.util.find_spec("xarray") is not None:
        if not any(isinstance(f, _RegisterOnImport) for f in sys.meta_path):
            sys.meta_path.insert(0, _RegisterOnImport())


install()

# cython: language_level=3
"""ooc._smooth: nogil (max, count, rest) kernels of logsumexp and softmax.

The C kernels (``_smooth_kernels.h``) read every element once: a tile of a few KiB is scanned
for its maximum and then, from the cache, for ``exp(x - max)``; on x86-64 Linux they are
compiled for the baseline, x86-64-v3 (AVX2) and x86-64-v4 (AVX-512) and the widest the CPU runs
is picked on first use (see :func:`isa`, :func:`set_isa`); a build with ``OOC_DISPATCH=0`` holds
the baseline only.
"""
from libc.stdint cimport intptr_t

import numpy as np

cdef extern from "_smooth_kernels.h" nogil:
    void ooc_lse_rows_f32(const float *x, intptr_t outer, intptr_t n, intptr_t rs,
                          double *om, double *oc, double *orr)
    void ooc_lse_rows_f64(const double *x, intptr_t outer, intptr_t n, intptr_t rs,
                          double *om, double *oc, double *orr)
    void ooc_lse_cols_f32(const float *x, intptr_t outer, intptr_t n, intptr_t inner,
                          intptr_t so, intptr_t sn, double *om, double *oc, double *orr)
    void ooc_lse_cols_f64(const double *x, intptr_t outer, intptr_t n, intptr_t inner,
                          intptr_t so, intptr_t sn, double *om, double *oc, double *orr)
    int ooc_smooth_set_level(int level)
    int ooc_smooth_get_level()

LEVELS = ("baseline", "x86-64-v3", "x86-64-v4")
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def isa():
    """The instruction set level the kernels run with: baseline, x86-64-v3 or x86-64-v4."""
    return LEVELS[ooc_smooth_get_level()]


def set_isa(name=None):
    """Run the kernels with instruction set level ``name`` (None: the widest this CPU runs;
    a level the CPU lacks falls back to the widest it has).  Returns the level in use."""
    level = -1 if name is None else LEVELS.index(name)
    return LEVELS[ooc_smooth_set_level(level)]


def is_supported(dtype):
    """Whether the kernels read this dtype (native float32 and float64)."""
    return np.dtype(dtype) in DTYPES


def _elements(stride, itemsize):
    if stride % itemsize:
        raise ValueError("strides must be multiples of the item size")
    return stride // itemsize


def lse3(x, double[:, ::1] m, double[:, ::1] c, double[:, ::1] r):
    """(max, count, rest) over axis 1 of ``x`` (outer, n, inner) into arrays (outer, inner).

    ``x`` is float32 or float64, non-empty, with a contiguous last axis, or a last axis of
    length one and a contiguous axis 1.  ``max`` is NaN where a NaN was seen; ``count`` is the
    number of elements equal to the maximum and ``rest`` the sum of ``exp(x - max)`` over the
    others.
    """
    cdef const float[:, :, :] xf
    cdef const double[:, :, :] xd
    cdef intptr_t outer = x.shape[0], n = x.shape[1], inner = x.shape[2]
    cdef intptr_t isz = x.dtype.itemsize
    cdef intptr_t so = _elements(x.strides[0], isz), sn = _elements(x.strides[1], isz)
    cdef bint rows = inner == 1
    if outer == 0 or n == 0 or inner == 0:
        raise ValueError("lse3 needs a non-empty array")
    if rows and sn != 1 and n > 1:
        raise ValueError("axis 1 must be contiguous when the last axis has length 1")
    if not rows and x.strides[2] != isz:
        raise ValueError("the last axis must be contiguous")
    if m.shape[0] != outer or m.shape[1] != inner or c.shape[0] != outer or \
            c.shape[1] != inner or r.shape[0] != outer or r.shape[1] != inner:
        raise ValueError("output arrays must have shape (outer, inner)")
    if x.dtype == DTYPES[0]:
        xf = x
        with nogil:
            if rows:
                ooc_lse_rows_f32(&xf[0, 0, 0], outer, n, so, &m[0, 0], &c[0, 0], &r[0, 0])
            else:
                ooc_lse_cols_f32(&xf[0, 0, 0], outer, n, inner, so, sn, &m[0, 0], &c[0, 0],
                                 &r[0, 0])
    elif x.dtype == DTYPES[1]:
        xd = x
        with nogil:
            if rows:
                ooc_lse_rows_f64(&xd[0, 0, 0], outer, n, so, &m[0, 0], &c[0, 0], &r[0, 0])
            else:
                ooc_lse_cols_f64(&xd[0, 0, 0], outer, n, inner, so, sn, &m[0, 0], &c[0, 0],
                                 &r[0, 0])
    else:
        raise TypeError(f"lse3 reads float32 and float64, not {x.dtype}")

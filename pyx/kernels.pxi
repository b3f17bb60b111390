# The body of the compiled kernels, included by one module per instruction set:
# _kernels.pyx (portable), _kernels_avx2.pyx and _kernels_avx512.pyx (x86-64, chosen at run time).
"""Compiled argmax-family kernels of ooc.

One pass over a chunk, in memory order, produces a (value, local index) pair for every line along the
reduced axis.  Two loop shapes cover every layout without a transpose or a copy:

* the reduced axis is the one with the smallest stride ("line" kernels): each line is reduced on its
  own; contiguous lines of argmax/argmin go to numpy's own SIMD argmax (one pass, first NaN wins),
  nan-variants to a 64-lane kernel the compiler vectorizes;
* another axis has the smallest stride ("row" kernels): rows of that axis are streamed one after the
  other and compared elementwise with the running best row, a loop the compiler vectorizes.

Comparison mode (max or min, NaN propagating or skipped) is a compile-time tag, so no mode test runs
inside a loop.  All index arithmetic is 64-bit; the GIL is released for the whole reduction.
"""
cimport cython
cimport numpy as cnp
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t,
                          uint64_t, INT32_MAX)
from libc.stdlib cimport free, malloc

from _fused cimport (bool_t, count_t, half_t, max_tag, min_tag, nan_t, op_t, propagate_tag,
                     skip_tag, value_t)

import numpy as np

cnp.import_array()

ctypedef cnp.npy_intp intp_t

cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyArray_ArrFuncs:
        int (*argmax)(void *, intp_t, intp_t *, void *) noexcept nogil
        int (*argmin)(void *, intp_t, intp_t *, void *) noexcept nogil
    PyArray_ArrFuncs *PyDataType_GetArrFuncs(cnp.dtype)

ctypedef int (*numpy_argfunc)(void *, intp_t, intp_t *, void *) noexcept nogil

cdef enum:
    LANES = 64          # independent running bests in the lane kernel (several vectors deep)
    TILE = 2048         # elements of the running best row kept in L1 by the row kernel
    MAXDIMS = 64

# dtypes with a compiled kernel (bool is read as bytes, any nonzero byte being True)
SUPPORTED = tuple(np.dtype(t) for t in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64"))


cdef struct geometry:
    int nouter                 # dims iterated outside the kernel
    intp_t shape[MAXDIMS]
    intp_t xs[MAXDIMS]         # byte strides of the input, the values and the indices output
    intp_t vs[MAXDIMS]
    intp_t js[MAXDIMS]
    intp_t n                   # length of the reduced axis and its input byte stride
    intp_t ks
    bint rows                  # row kernel (True) or line kernel (False)
    intp_t m                   # row kernel: row length, input / values / indices byte strides
    intp_t es
    intp_t vms
    intp_t jms


# ---------------------------------------------------------------------------------------------
# element comparisons

cdef inline int hkey(uint16_t bits) noexcept nogil:
    """Order-preserving integer key of a non-NaN half; -0.0 and 0.0 share key 0."""
    cdef int k = <int16_t>bits
    return (k ^ ((k >> 15) & 0x7fff)) if (bits & 0x7fff) else 0


cdef inline bint is_nan(value_t v) noexcept nogil:
    if value_t is float or value_t is double:
        return v != v
    elif value_t is half_t:
        return (v.bits & 0x7fff) > 0x7c00
    else:
        return False


cdef inline bint better(value_t v, value_t b, op_t *op, nan_t *nan) noexcept nogil:
    """True when v, seen after b, replaces b as the running best (strictly: ties keep b)."""
    cdef bint gt, nv, nb
    if value_t is float or value_t is double:
        # propagate: v wins when "not v <= b" (v larger, or v NaN) while b is not NaN;
        # skip: v wins when "not b >= v" (v larger, or b NaN) while v is not NaN.
        if nan_t is propagate_tag:
            if op_t is max_tag:
                return (not (v <= b)) & (b == b)
            else:
                return (not (v >= b)) & (b == b)
        else:
            if op_t is max_tag:
                return (not (b >= v)) & (v == v)
            else:
                return (not (b <= v)) & (v == v)
    elif value_t is half_t:
        nv = (v.bits & 0x7fff) > 0x7c00
        nb = (b.bits & 0x7fff) > 0x7c00
        if op_t is max_tag:
            gt = hkey(v.bits) > hkey(b.bits)
        else:
            gt = hkey(v.bits) < hkey(b.bits)
        gt = gt & (not nv) & (not nb)
        if nan_t is propagate_tag:
            return gt | (nv & (not nb))
        else:
            return gt | (nb & (not nv))
    elif value_t is bool_t:
        if op_t is max_tag:
            return (v.byte != 0) & (b.byte == 0)
        else:
            return (v.byte == 0) & (b.byte != 0)
    else:
        if op_t is max_tag:
            return v > b
        else:
            return v < b


cdef inline bint same(value_t v, value_t b) noexcept nogil:
    """v and b tie (NaN ties with NaN, -0.0 with 0.0)."""
    cdef bint nv, nb
    if value_t is float or value_t is double:
        return (v == b) | ((v != v) & (b != b))
    elif value_t is half_t:
        nv = (v.bits & 0x7fff) > 0x7c00
        nb = (b.bits & 0x7fff) > 0x7c00
        return (nv & nb) | ((not nv) & (not nb) & (hkey(v.bits) == hkey(b.bits)))
    elif value_t is bool_t:
        return (v.byte != 0) == (b.byte != 0)
    else:
        return v == b


cdef inline value_t proper(value_t v) noexcept nogil:
    """v as returned to the caller: a bool as the byte 0 or 1, every other type unchanged."""
    if value_t is bool_t:
        v.byte = v.byte != 0
    return v


# ---------------------------------------------------------------------------------------------
# line kernels: the reduced axis is the innermost one

cdef intp_t line_strided(const char *p, intp_t stride, intp_t n, value_t *vtag, op_t *op,
                         nan_t *nan) noexcept nogil:
    cdef intp_t i, best = 0
    cdef value_t v, bv = (<const value_t *>p)[0]
    for i in range(1, n):
        v = (<const value_t *>(p + i * stride))[0]
        if better(v, bv, op, nan):
            bv = v
            best = i
    if nan_t is skip_tag:
        if is_nan(bv):
            return -1
    return best


cdef intp_t line_lanes(const value_t *p, intp_t n, count_t *ctag, op_t *op,
                       nan_t *nan) noexcept nogil:
    """First best index of a contiguous line, LANES running bests at a time; -1 if all NaN."""
    cdef value_t lv[LANES]
    cdef count_t lr[LANES]
    cdef value_t v, bv
    cdef const value_t *q
    cdef intp_t rows = n // LANES, seg_rows, seg, r, i, cand, best = -1
    cdef intp_t max_rows = INT32_MAX if sizeof(count_t) == 4 else rows + 1
    cdef int l
    cdef bint t
    seg = 0
    while seg < rows:
        seg_rows = rows - seg if rows - seg < max_rows else max_rows
        q = p + seg * LANES
        for l in range(LANES):
            lv[l] = q[l]
            lr[l] = 0
        for r in range(1, seg_rows):
            for l in range(LANES):
                v = q[r * LANES + l]
                t = better(v, lv[l], op, nan)
                lv[l] = v if t else lv[l]
                lr[l] = <count_t>r if t else lr[l]
        for l in range(LANES):
            cand = (seg + <intp_t>lr[l]) * LANES + l
            if best < 0 or better(lv[l], bv, op, nan) or (same(lv[l], bv) and cand < best):
                bv = lv[l]
                best = cand
        seg += seg_rows
    for i in range(rows * LANES, n):
        if best < 0 or better(p[i], bv, op, nan):
            bv = p[i]
            best = i
    if nan_t is skip_tag:
        if is_nan(bv):
            return -1
    return best


cdef intp_t line_best(const char *p, intp_t stride, intp_t n, numpy_argfunc argfunc,
                      value_t *vtag, op_t *op, nan_t *nan) noexcept nogil:
    cdef intp_t best = 0
    if stride != sizeof(value_t):
        return line_strided(p, stride, n, vtag, op, nan)
    if argfunc != NULL:
        # numpy's SIMD argmax/argmin: first NaN wins (and for bool, any nonzero byte is True).
        # For a nan-variant its answer stands when it is not NaN, which means the line holds no
        # NaN at all.
        argfunc(<void *>p, n, &best, NULL)
        if nan_t is propagate_tag or not is_nan((<const value_t *>p)[best]):
            return best
    if sizeof(value_t) <= 4:
        return line_lanes(<const value_t *>p, n, <int32_t *>NULL, op, nan)
    return line_lanes(<const value_t *>p, n, <int64_t *>NULL, op, nan)


# ---------------------------------------------------------------------------------------------
# row kernels: the reduced axis is an outer one; whole rows are compared elementwise

cdef void rows_update(const char *p, intp_t ks, intp_t k0, intp_t k1, intp_t m, value_t *bv,
                      count_t *bc, op_t *op, nan_t *nan) noexcept nogil:
    """Exact elementwise update of the running best row with rows k0..k1-1.

    Four rows per sweep: the running best is loaded and stored once for four compares.
    """
    cdef intp_t k = k0, j
    cdef const value_t *r0
    cdef const value_t *r1
    cdef const value_t *r2
    cdef const value_t *r3
    cdef value_t v, b
    cdef count_t c
    cdef bint t
    # (GCC vectorizes the four-row chain for every mode but the NaN-propagating float one, whose
    # "b == b" test on the running value defeats its if-conversion: that one sweeps row by row.)
    while k + 4 <= k1 and not ((value_t is float or value_t is double or value_t is half_t)
                               and nan_t is propagate_tag):
        r0 = <const value_t *>(p + k * ks)
        r1 = <const value_t *>(p + (k + 1) * ks)
        r2 = <const value_t *>(p + (k + 2) * ks)
        r3 = <const value_t *>(p + (k + 3) * ks)
        for j in range(m):
            b = bv[j]
            c = bc[j]
            v = r0[j]
            t = better(v, b, op, nan)
            b = v if t else b
            c = <count_t>k if t else c
            v = r1[j]
            t = better(v, b, op, nan)
            b = v if t else b
            c = <count_t>(k + 1) if t else c
            v = r2[j]
            t = better(v, b, op, nan)
            b = v if t else b
            c = <count_t>(k + 2) if t else c
            v = r3[j]
            t = better(v, b, op, nan)
            b = v if t else b
            c = <count_t>(k + 3) if t else c
            bv[j] = b
            bc[j] = c
        k += 4
    while k < k1:
        r0 = <const value_t *>(p + k * ks)
        for j in range(m):
            v = r0[j]
            b = bv[j]
            t = better(v, b, op, nan)
            bv[j] = v if t else b
            bc[j] = <count_t>k if t else bc[j]
        k += 1


cdef bint rows_no_nan(const char *p, intp_t ks, intp_t k0, intp_t k1, intp_t m, value_t *bv,
                      count_t *bc, op_t *op) noexcept nogil:
    """argmax/argmin update of float rows k0..k1-1 assuming they hold no NaN; False if one does.

    A plain strict compare-select, four rows per sweep, while an OR-reduction notes any NaN: a
    NaN-free sweep (the common case) is then exact, and a NaN sends the caller to the exact loop.
    """
    cdef intp_t k = k0, j
    cdef const value_t *r0
    cdef const value_t *r1
    cdef const value_t *r2
    cdef const value_t *r3
    cdef value_t v, b
    cdef count_t c
    cdef bint t
    cdef int nan = 0
    while k + 4 <= k1:
        r0 = <const value_t *>(p + k * ks)
        r1 = <const value_t *>(p + (k + 1) * ks)
        r2 = <const value_t *>(p + (k + 2) * ks)
        r3 = <const value_t *>(p + (k + 3) * ks)
        for j in range(m):
            b = bv[j]
            c = bc[j]
            v = r0[j]
            nan |= v != v
            t = v > b if op_t is max_tag else v < b
            b = v if t else b
            c = <count_t>k if t else c
            v = r1[j]
            nan |= v != v
            t = v > b if op_t is max_tag else v < b
            b = v if t else b
            c = <count_t>(k + 1) if t else c
            v = r2[j]
            nan |= v != v
            t = v > b if op_t is max_tag else v < b
            b = v if t else b
            c = <count_t>(k + 2) if t else c
            v = r3[j]
            nan |= v != v
            t = v > b if op_t is max_tag else v < b
            b = v if t else b
            c = <count_t>(k + 3) if t else c
            bv[j] = b
            bc[j] = c
        k += 4
    while k < k1:
        r0 = <const value_t *>(p + k * ks)
        for j in range(m):
            v = r0[j]
            b = bv[j]
            nan |= v != v
            t = v > b if op_t is max_tag else v < b
            bv[j] = v if t else b
            bc[j] = <count_t>k if t else bc[j]
        k += 1
    return nan == 0


cdef inline uint8_t bool_step(uint8_t v, uint8_t b, bint *t, op_t *op) noexcept nogil:
    """One compare of a raw bool byte v with the running best b of rows_update_bool."""
    if op_t is max_tag:
        t[0] = v > b
        return <uint8_t>(b | -(<uint8_t>t[0]))
    else:
        t[0] = v < b
        return v if t[0] else b


cdef void rows_update_bool(const char *p, intp_t ks, intp_t k0, intp_t k1, intp_t m, uint8_t *bv,
                           count_t *bc, op_t *op) noexcept nogil:
    """rows_update for bool, whose bytes other than 0 are all True, on raw bytes.

    The running best holds False as 0 and True as 255 (max) or 1 (min), so that a raw byte
    compare is the bool compare: for max, v > b is "v nonzero and b False"; for min, v < b is "v
    zero and b True".  GCC vectorizes this form (not a compare of normalized 0/1 bytes, nor a
    select of bool_t structs).
    """
    cdef intp_t k = k0, j
    cdef const uint8_t *r0
    cdef const uint8_t *r1
    cdef const uint8_t *r2
    cdef const uint8_t *r3
    cdef uint8_t b
    cdef count_t c
    cdef bint t
    while k + 4 <= k1:
        r0 = <const uint8_t *>(p + k * ks)
        r1 = <const uint8_t *>(p + (k + 1) * ks)
        r2 = <const uint8_t *>(p + (k + 2) * ks)
        r3 = <const uint8_t *>(p + (k + 3) * ks)
        for j in range(m):
            b = bv[j]
            c = bc[j]
            b = bool_step(r0[j], b, &t, op)
            c = <count_t>k if t else c
            b = bool_step(r1[j], b, &t, op)
            c = <count_t>(k + 1) if t else c
            b = bool_step(r2[j], b, &t, op)
            c = <count_t>(k + 2) if t else c
            b = bool_step(r3[j], b, &t, op)
            c = <count_t>(k + 3) if t else c
            bv[j] = b
            bc[j] = c
        k += 4
    while k < k1:
        r0 = <const uint8_t *>(p + k * ks)
        for j in range(m):
            b = bool_step(r0[j], bv[j], &t, op)
            bv[j] = b
            bc[j] = <count_t>k if t else bc[j]
        k += 1


cdef void rows_contiguous(const char *p, intp_t ks, intp_t n, intp_t m, value_t *bv,
                          count_t *bc, op_t *op, nan_t *nan) noexcept nogil:
    """Best of n contiguous rows of m elements: the first row, then an exact update per row."""
    cdef intp_t j
    cdef const value_t *row = <const value_t *>p
    if value_t is bool_t:
        for j in range(m):
            bv[j].byte = (255 if op_t is max_tag else 1) if row[j].byte else 0
            bc[j] = 0
        rows_update_bool(p, ks, 1, n, m, <uint8_t *>bv, bc, op)
        return
    for j in range(m):
        bv[j] = row[j]
        bc[j] = 0
    if (value_t is float or value_t is double) and nan_t is propagate_tag:
        # a NaN in the first row is already right (nothing replaces it under a strict compare)
        if rows_no_nan(p, ks, 1, n, m, bv, bc, op):
            return
        for j in range(m):
            bv[j] = row[j]
            bc[j] = 0
    rows_update(p, ks, 1, n, m, bv, bc, op, nan)


cdef void rows_strided(const char *p, intp_t ks, intp_t n, intp_t m, intp_t es, value_t *bv,
                       count_t *bc, op_t *op, nan_t *nan) noexcept nogil:
    cdef intp_t k, j
    cdef value_t v
    for j in range(m):
        bv[j] = (<const value_t *>(p + j * es))[0]
        bc[j] = 0
    for k in range(1, n):
        for j in range(m):
            v = (<const value_t *>(p + k * ks + j * es))[0]
            if better(v, bv[j], op, nan):
                bv[j] = v
                bc[j] = <count_t>k


cdef void rows_best(const char *p, geometry *g, value_t *bv, count_t *bc, op_t *op,
                    nan_t *nan) noexcept nogil:
    """Best of g.n rows of g.m elements into bv/bc, in tiles that keep bv/bc in L1."""
    cdef intp_t j0, w
    if g.es != sizeof(value_t):
        rows_strided(p, g.ks, g.n, g.m, g.es, bv, bc, op, nan)
        return
    j0 = 0
    while j0 < g.m:
        w = g.m - j0 if g.m - j0 < TILE else TILE
        rows_contiguous(p + j0 * g.es, g.ks, g.n, w, bv + j0, bc + j0, op, nan)
        j0 += w


# ---------------------------------------------------------------------------------------------
# the N-d driver

cdef int reduce_tagged(char *x, char *vout, char *jout, geometry *g, numpy_argfunc argfunc,
                       value_t *vtag, count_t *ctag, op_t *op, nan_t *nan) noexcept nogil:
    cdef intp_t counter[MAXDIMS]
    cdef intp_t offx = 0, offv = 0, offj = 0, j, idx
    cdef int d
    cdef value_t *bv = NULL
    cdef count_t *bc = NULL
    for d in range(g.nouter):
        counter[d] = 0
        if g.shape[d] == 0:
            return 0
    if g.rows:
        bv = <value_t *>malloc(g.m * sizeof(value_t) + 1)
        bc = <count_t *>malloc(g.m * sizeof(count_t) + 1)
        if bv == NULL or bc == NULL:
            free(bv)
            free(bc)
            return -1
    while True:
        if g.rows:
            rows_best(x + offx, g, bv, bc, op, nan)
            for j in range(g.m):
                idx = bc[j]
                if nan_t is skip_tag:
                    if is_nan(bv[j]):
                        idx = -1
                (<value_t *>(vout + offv + j * g.vms))[0] = proper(bv[j])
                (<int64_t *>(jout + offj + j * g.jms))[0] = idx
        else:
            idx = line_best(x + offx, g.ks, g.n, argfunc, vtag, op, nan)
            (<value_t *>(vout + offv))[0] = proper(
                (<value_t *>(x + offx + (idx if idx > 0 else 0) * g.ks))[0])
            (<int64_t *>(jout + offj))[0] = idx
        # next outer position, last dim fastest
        d = g.nouter - 1
        while d >= 0:
            counter[d] += 1
            offx += g.xs[d]
            offv += g.vs[d]
            offj += g.js[d]
            if counter[d] < g.shape[d]:
                break
            offx -= g.xs[d] * counter[d]
            offv -= g.vs[d] * counter[d]
            offj -= g.js[d] * counter[d]
            counter[d] = 0
            d -= 1
        if d < 0:
            break
    free(bv)
    free(bc)
    return 0


cdef int reduce_counted(char *x, char *vout, char *jout, geometry *g, numpy_argfunc argfunc,
                        value_t *vtag, count_t *ctag, bint is_min, bint skipna) noexcept nogil:
    if value_t is float or value_t is double or value_t is half_t:
        if skipna:
            if is_min:
                return reduce_tagged(x, vout, jout, g, argfunc, vtag, ctag, <min_tag *>NULL,
                                     <skip_tag *>NULL)
            return reduce_tagged(x, vout, jout, g, argfunc, vtag, ctag, <max_tag *>NULL,
                                 <skip_tag *>NULL)
    if is_min:
        return reduce_tagged(x, vout, jout, g, argfunc, vtag, ctag, <min_tag *>NULL,
                             <propagate_tag *>NULL)
    return reduce_tagged(x, vout, jout, g, argfunc, vtag, ctag, <max_tag *>NULL,
                         <propagate_tag *>NULL)


cdef int reduce_typed(char *x, char *vout, char *jout, geometry *g, numpy_argfunc argfunc,
                      value_t *vtag, bint is_min, bint skipna) noexcept nogil:
    # 32-bit row counters beside values of up to 4 bytes keep the row kernel's lanes aligned
    if sizeof(value_t) <= 4 and g.n <= INT32_MAX:
        return reduce_counted(x, vout, jout, g, argfunc, vtag, <int32_t *>NULL, is_min, skipna)
    return reduce_counted(x, vout, jout, g, argfunc, vtag, <int64_t *>NULL, is_min, skipna)


cdef int reduce_any(int typenum, char *x, char *vout, char *jout, geometry *g,
                    numpy_argfunc argfunc, bint is_min, bint skipna) noexcept nogil:
    if typenum == cnp.NPY_FLOAT:
        return reduce_typed(x, vout, jout, g, argfunc, <float *>NULL, is_min, skipna)
    if typenum == cnp.NPY_DOUBLE:
        return reduce_typed(x, vout, jout, g, argfunc, <double *>NULL, is_min, skipna)
    if typenum == cnp.NPY_FLOAT16:
        return reduce_typed(x, vout, jout, g, argfunc, <half_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_BYTE:
        return reduce_typed(x, vout, jout, g, argfunc, <int8_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_BOOL:
        return reduce_typed(x, vout, jout, g, argfunc, <bool_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_UBYTE:
        return reduce_typed(x, vout, jout, g, argfunc, <uint8_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_SHORT:
        return reduce_typed(x, vout, jout, g, argfunc, <int16_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_USHORT:
        return reduce_typed(x, vout, jout, g, argfunc, <uint16_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_INT or (typenum == cnp.NPY_LONG and sizeof(long) == 4):
        return reduce_typed(x, vout, jout, g, argfunc, <int32_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_UINT or (typenum == cnp.NPY_ULONG and sizeof(long) == 4):
        return reduce_typed(x, vout, jout, g, argfunc, <uint32_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_LONG or typenum == cnp.NPY_LONGLONG:
        return reduce_typed(x, vout, jout, g, argfunc, <int64_t *>NULL, is_min, skipna)
    if typenum == cnp.NPY_ULONG or typenum == cnp.NPY_ULONGLONG:
        return reduce_typed(x, vout, jout, g, argfunc, <uint64_t *>NULL, is_min, skipna)
    return -2


def is_supported(dtype):
    """True when ``dtype`` has a compiled kernel (native byte order, bool, ints, floats)."""
    dtype = np.dtype(dtype)
    return dtype.isnative and dtype in SUPPORTED


def argreduce(cnp.ndarray x not None, int axis, bint is_min, bint skipna):
    """Best element along ``axis`` of one chunk, in one pass over its memory.

    Parameters
    ----------
    x : numpy.ndarray
        At least 1-d, a dtype for which :func:`is_supported` holds, ``x.shape[axis] > 0``; any
        memory layout (C, F, strided, negative strides).
    axis : int
        Non-negative axis to reduce.
    is_min : bool
        Smallest instead of largest.
    skipna : bool
        NaN never wins (nanargmax); otherwise the first NaN wins (argmax).

    Returns
    -------
    values : numpy.ndarray
        ``x`` at the index, shape ``x.shape`` without ``axis``, laid out in ``x``'s memory order.
    indices : numpy.ndarray of int64
        Index along ``axis`` of the first best element, -1 where ``skipna`` and the line is all NaN.

    Examples
    --------
    >>> import numpy as np
    >>> argreduce(np.array([[3, 9, 9], [7, 1, 7]], dtype=np.int16), 0, False, False)
    (array([7, 9, 9], dtype=int16), array([1, 0, 0]))
    >>> argreduce(np.array([[np.nan, 2.0, np.nan]]), 1, True, True)
    (array([2.]), array([1]))
    """
    cdef int nd = x.ndim, d, pos, typenum, rc
    cdef geometry g
    cdef cnp.ndarray values, indices
    cdef numpy_argfunc argfunc = NULL
    if nd < 1 or nd > MAXDIMS:
        raise ValueError(f"argreduce needs an array of 1 to {MAXDIMS} dimensions, got {nd}")
    if not 0 <= axis < nd:
        raise ValueError(f"axis {axis} is out of range for a {nd}-d chunk")
    if x.shape[axis] == 0:
        raise ValueError("attempt to get argmax of an empty sequence")
    if not is_supported(x.dtype):
        raise TypeError(f"no compiled kernel for dtype {x.dtype}")
    if not x.flags.aligned:
        x = x.copy()
    shape = [x.shape[d] for d in range(nd)]
    strides = [x.strides[d] for d in range(nd)]
    others = [d for d in range(nd) if d != axis]
    # output in the input's memory order, so that the row kernel writes it contiguously
    order = sorted(others, key=lambda d: -abs(strides[d]))
    values = np.empty([shape[d] for d in order], dtype=x.dtype)
    indices = np.empty([shape[d] for d in order], dtype=np.int64)
    vstride = {d: values.strides[i] for i, d in enumerate(order)}
    jstride = {d: indices.strides[i] for i, d in enumerate(order)}
    inv = [order.index(d) for d in others]
    values_out = values.transpose(inv)
    indices_out = indices.transpose(inv)

    movable = [d for d in others if shape[d] > 1]
    inner = min(movable, key=lambda d: abs(strides[d])) if movable else -1
    g.rows = inner >= 0 and shape[axis] > 1 and abs(strides[inner]) < abs(strides[axis])
    g.n = shape[axis]
    g.ks = strides[axis]
    outer = [d for d in order if not (g.rows and d == inner)]
    g.nouter = len(outer)
    for pos, d in enumerate(outer):
        g.shape[pos] = shape[d]
        g.xs[pos] = strides[d]
        g.vs[pos] = vstride[d]
        g.js[pos] = jstride[d]
    if g.rows:
        g.m = shape[inner]
        g.es = strides[inner]
        g.vms = vstride[inner]
        g.jms = jstride[inner]
    else:
        g.m = 1
        g.es = g.vms = g.jms = 0
        if g.ks == x.itemsize and x.dtype.num != cnp.NPY_FLOAT16:
            # numpy's half argmax is a scalar loop slower than the lane kernel
            funcs = PyDataType_GetArrFuncs(x.dtype)
            argfunc = funcs.argmin if is_min else funcs.argmax
    typenum = x.dtype.num
    with nogil:
        rc = reduce_any(typenum, x.data, values.data, indices.data, &g, argfunc, is_min, skipna)
    if rc == -1:
        raise MemoryError()
    if rc == -2:
        raise TypeError(f"no compiled kernel for dtype {x.dtype}")
    return values_out, indices_out

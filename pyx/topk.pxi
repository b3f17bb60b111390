# The body of the top-k kernels, included by one module per instruction set: _topk.pyx
# (portable), _topk_avx2.pyx and _topk_avx512.pyx (x86-64, chosen at run time with the argmax
# kernels' build).
"""Compiled top-k kernels of ooc: the k best (value, index) pairs of every line of a chunk.

Best is the largest value (or the smallest), NaN last, then the smaller index.  Each line keeps a
sorted buffer of k pairs; a new element is compared with the k-th best only (a vectorized test over
a group of elements) and inserted when it beats it, which after the first few rows of a chunk is
rare.  Two loop shapes, as for argmax:

* the reduced axis is the one with the smallest stride ("line" kernel): each line is scanned once;
* another axis has the smallest stride ("row" kernel): rows are streamed one after the other and
  every column keeps its own buffer, tested against its k-th best a group of columns at a time.

:func:`select` merges candidate pairs with arbitrary indices (the combine step).  The GIL is
released for the whole of every loop.
"""
cimport numpy as cnp
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t,
                          uint64_t, INT32_MAX)
from libc.math cimport INFINITY
from libc.stdlib cimport free, malloc

from _fused cimport max_tag, min_tag, op_t

import numpy as np

cnp.import_array()

ctypedef cnp.npy_intp intp_t

ctypedef fused value_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    float
    double

ctypedef fused count_t:
    int32_t
    int64_t

cdef enum:
    BLOCK = 64      # elements of a line tested together against its k-th best
    GROUP = 32      # columns tested together against their thresholds by the row kernel
    TILE = 256      # columns the row kernel handles at a time (two passes over their rows)

# dtypes with a compiled kernel (bool is read as uint8 after normalising its bytes)
SUPPORTED = tuple(np.dtype(t) for t in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64"))


# ---------------------------------------------------------------------------------------------
# comparisons

cdef inline bint beats(value_t v, value_t b, op_t *op) noexcept nogil:
    """v's value ranks strictly before b's: larger (smaller), or b is NaN and v is not."""
    if value_t is float or value_t is double:
        if op_t is max_tag:
            return (v > b) | ((b != b) & (v == v))
        else:
            return (v < b) | ((b != b) & (v == v))
    else:
        if op_t is max_tag:
            return v > b
        else:
            return v < b


cdef inline bint ties(value_t v, value_t b) noexcept nogil:
    """Equal values (NaN ties with NaN, -0.0 with 0.0)."""
    if value_t is float or value_t is double:
        return (v == b) | ((v != v) & (b != b))
    else:
        return v == b


cdef inline bint before(value_t v, int64_t i, value_t b, int64_t j, op_t *op) noexcept nogil:
    """(v, i) ranks strictly before (b, j): better value, or tied value and smaller index."""
    return beats(v, b, op) | (ties(v, b) & (i < j))


# ---------------------------------------------------------------------------------------------
# filters: does any element of a group beat its threshold? (vectorized C loops, _topk_filter.h)

cdef extern from "_topk_filter.h" nogil:
    int ooc_any_i8_max(const int8_t *q, int8_t t, intp_t n)
    int ooc_any_i8_min(const int8_t *q, int8_t t, intp_t n)
    int ooc_any_i16_max(const int16_t *q, int16_t t, intp_t n)
    int ooc_any_i16_min(const int16_t *q, int16_t t, intp_t n)
    int ooc_any_i32_max(const int32_t *q, int32_t t, intp_t n)
    int ooc_any_i32_min(const int32_t *q, int32_t t, intp_t n)
    int ooc_any_i64_max(const int64_t *q, int64_t t, intp_t n)
    int ooc_any_i64_min(const int64_t *q, int64_t t, intp_t n)
    int ooc_any_u8_max(const uint8_t *q, uint8_t t, intp_t n)
    int ooc_any_u8_min(const uint8_t *q, uint8_t t, intp_t n)
    int ooc_any_u16_max(const uint16_t *q, uint16_t t, intp_t n)
    int ooc_any_u16_min(const uint16_t *q, uint16_t t, intp_t n)
    int ooc_any_u32_max(const uint32_t *q, uint32_t t, intp_t n)
    int ooc_any_u32_min(const uint32_t *q, uint32_t t, intp_t n)
    int ooc_any_u64_max(const uint64_t *q, uint64_t t, intp_t n)
    int ooc_any_u64_min(const uint64_t *q, uint64_t t, intp_t n)
    int ooc_any_f32_max(const float *q, float t, intp_t n)
    int ooc_any_f32_min(const float *q, float t, intp_t n)
    int ooc_any_f64_max(const double *q, double t, intp_t n)
    int ooc_any_f64_min(const double *q, double t, intp_t n)
    int ooc_lowest_bit(uint32_t m)
    uint64_t ooc_mask64_f32_max(const float *q, float t)
    uint64_t ooc_mask64_f32_min(const float *q, float t)
    int ooc_lowest_bit64(uint64_t m)
    int ooc_anypass_i8_max(const int8_t *q, const int8_t *t, intp_t n)
    int ooc_anypass_i8_min(const int8_t *q, const int8_t *t, intp_t n)
    int ooc_anypass_i16_max(const int16_t *q, const int16_t *t, intp_t n)
    int ooc_anypass_i16_min(const int16_t *q, const int16_t *t, intp_t n)
    int ooc_anypass_i32_max(const int32_t *q, const int32_t *t, intp_t n)
    int ooc_anypass_i32_min(const int32_t *q, const int32_t *t, intp_t n)
    int ooc_anypass_i64_max(const int64_t *q, const int64_t *t, intp_t n)
    int ooc_anypass_i64_min(const int64_t *q, const int64_t *t, intp_t n)
    int ooc_anypass_u8_max(const uint8_t *q, const uint8_t *t, intp_t n)
    int ooc_anypass_u8_min(const uint8_t *q, const uint8_t *t, intp_t n)
    int ooc_anypass_u16_max(const uint16_t *q, const uint16_t *t, intp_t n)
    int ooc_anypass_u16_min(const uint16_t *q, const uint16_t *t, intp_t n)
    int ooc_anypass_u32_max(const uint32_t *q, const uint32_t *t, intp_t n)
    int ooc_anypass_u32_min(const uint32_t *q, const uint32_t *t, intp_t n)
    int ooc_anypass_u64_max(const uint64_t *q, const uint64_t *t, intp_t n)
    int ooc_anypass_u64_min(const uint64_t *q, const uint64_t *t, intp_t n)
    uint32_t ooc_passmask32_f32_max(const float *q, const float *t)
    uint32_t ooc_passmask32_f32_min(const float *q, const float *t)
    uint32_t ooc_passmask32_f64_max(const double *q, const double *t)
    uint32_t ooc_passmask32_f64_min(const double *q, const double *t)
    void ooc_net_i8_max(int8_t *sel, int8_t *m, intp_t w)
    void ooc_net_i8_min(int8_t *sel, int8_t *m, intp_t w)
    void ooc_net_i16_max(int16_t *sel, int16_t *m, intp_t w)
    void ooc_net_i16_min(int16_t *sel, int16_t *m, intp_t w)
    void ooc_net_i32_max(int32_t *sel, int32_t *m, intp_t w)
    void ooc_net_i32_min(int32_t *sel, int32_t *m, intp_t w)
    void ooc_net_i64_max(int64_t *sel, int64_t *m, intp_t w)
    void ooc_net_i64_min(int64_t *sel, int64_t *m, intp_t w)
    void ooc_net_u8_max(uint8_t *sel, uint8_t *m, intp_t w)
    void ooc_net_u8_min(uint8_t *sel, uint8_t *m, intp_t w)
    void ooc_net_u16_max(uint16_t *sel, uint16_t *m, intp_t w)
    void ooc_net_u16_min(uint16_t *sel, uint16_t *m, intp_t w)
    void ooc_net_u32_max(uint32_t *sel, uint32_t *m, intp_t w)
    void ooc_net_u32_min(uint32_t *sel, uint32_t *m, intp_t w)
    void ooc_net_u64_max(uint64_t *sel, uint64_t *m, intp_t w)
    void ooc_net_u64_min(uint64_t *sel, uint64_t *m, intp_t w)
    void ooc_net_f32_max(float *sel, float *m, intp_t w)
    void ooc_net_f32_min(float *sel, float *m, intp_t w)
    void ooc_net_f64_max(double *sel, double *m, intp_t w)
    void ooc_net_f64_min(double *sel, double *m, intp_t w)


cdef inline value_t threshold(value_t b, op_t *op) noexcept nogil:
    """The filters' threshold for a k-th best b: b, or for NaN the worst non-NaN value."""
    if value_t is float or value_t is double:
        if b != b:
            return -1e308 * 1e308 if op_t is max_tag else 1e308 * 1e308
    return b


cdef inline int any_beats(const value_t *q, value_t t, intp_t n, op_t *op) noexcept nogil:
    """Whether an element of q[0:n] may beat threshold t (never a false no)."""
    if op_t is max_tag:
        if value_t is float: return ooc_any_f32_max(q, t, n)
        elif value_t is double: return ooc_any_f64_max(q, t, n)
        elif value_t is int8_t: return ooc_any_i8_max(q, t, n)
        elif value_t is int16_t: return ooc_any_i16_max(q, t, n)
        elif value_t is int32_t: return ooc_any_i32_max(q, t, n)
        elif value_t is int64_t: return ooc_any_i64_max(q, t, n)
        elif value_t is uint8_t: return ooc_any_u8_max(q, t, n)
        elif value_t is uint16_t: return ooc_any_u16_max(q, t, n)
        elif value_t is uint32_t: return ooc_any_u32_max(q, t, n)
        else: return ooc_any_u64_max(q, t, n)
    else:
        if value_t is float: return ooc_any_f32_min(q, t, n)
        elif value_t is double: return ooc_any_f64_min(q, t, n)
        elif value_t is int8_t: return ooc_any_i8_min(q, t, n)
        elif value_t is int16_t: return ooc_any_i16_min(q, t, n)
        elif value_t is int32_t: return ooc_any_i32_min(q, t, n)
        elif value_t is int64_t: return ooc_any_i64_min(q, t, n)
        elif value_t is uint8_t: return ooc_any_u8_min(q, t, n)
        elif value_t is uint16_t: return ooc_any_u16_min(q, t, n)
        elif value_t is uint32_t: return ooc_any_u32_min(q, t, n)
        else: return ooc_any_u64_min(q, t, n)


# ---------------------------------------------------------------------------------------------
# line kernel: one line, any stride

cdef inline void insert_last(value_t v, int64_t i, value_t *bv, int64_t *bi, intp_t kk,
                             op_t *op) noexcept nogil:
    """Insert (v, i), whose index is larger than all in the buffer, over its worst entry."""
    cdef intp_t s = kk - 1
    while s > 0 and beats(v, bv[s - 1], op):
        bv[s] = bv[s - 1]
        bi[s] = bi[s - 1]
        s -= 1
    bv[s] = v
    bi[s] = i


cdef void topk_line(const char *p, intp_t stride, intp_t n, intp_t k, value_t *bv, int64_t *bi,
                    op_t *op) noexcept nogil:
    """The min(k, n) best pairs of one line into bv/bi, best first."""
    cdef intp_t kk = k if k < n else n, i, j, s
    cdef value_t v
    cdef uint64_t mask
    cdef const value_t *q = <const value_t *>p
    for i in range(kk):
        v = (<const value_t *>(p + i * stride))[0]
        s = i
        while s > 0 and beats(v, bv[s - 1], op):
            bv[s] = bv[s - 1]
            bi[s] = bi[s - 1]
            s -= 1
        bv[s] = v
        bi[s] = i
    if kk == 0 or kk == n:
        return
    i = kk
    if stride == sizeof(value_t):
        while i + BLOCK <= n:
            if any_beats(q + i, threshold(bv[kk - 1], op), BLOCK, op):
                if value_t is float:
                    # visit only the lanes that pass (float32, the common case)
                    if op_t is max_tag:
                        mask = ooc_mask64_f32_max(q + i, threshold(bv[kk - 1], op))
                    else:
                        mask = ooc_mask64_f32_min(q + i, threshold(bv[kk - 1], op))
                    while mask:
                        j = i + ooc_lowest_bit64(mask)
                        mask &= mask - 1
                        if beats(q[j], bv[kk - 1], op):
                            insert_last(q[j], j, bv, bi, kk, op)
                else:
                    for j in range(i, i + BLOCK):
                        if beats(q[j], bv[kk - 1], op):
                            insert_last(q[j], j, bv, bi, kk, op)
            i += BLOCK
    while i < n:
        v = (<const value_t *>(p + i * stride))[0]
        if beats(v, bv[kk - 1], op):
            insert_last(v, i, bv, bi, kk, op)
        i += 1


cdef int lines_typed(const char *x, intp_t nl, intp_t ls, intp_t n, intp_t es, intp_t k,
                     value_t *vout, int64_t *iout, op_t *op) noexcept nogil:
    """nl lines of n elements (line stride ls, element stride es, in bytes) into (nl, kk)."""
    cdef intp_t l, kk = k if k < n else n
    for l in range(nl):
        topk_line(x + l * ls, es, n, k, vout + l * kk, iout + l * kk, op)
    return 0


# ---------------------------------------------------------------------------------------------
# row kernel: rows of contiguous elements, one buffer per column

cdef inline void insert_column(value_t v, count_t r, value_t *bv, count_t *bc, intp_t s,
                               op_t *op) noexcept nogil:
    """Insert (v, r), r larger than every index in a column's buffer bv/bc, at slot s or above."""
    while s > 0 and beats(v, bv[s - 1], op):
        bv[s] = bv[s - 1]
        bc[s] = bc[s - 1]
        s -= 1
    bv[s] = v
    bc[s] = r


cdef inline value_t worst(value_t *vtag, op_t *op) noexcept nogil:
    """The worst value that is not NaN."""
    if value_t is float or value_t is double:
        return -INFINITY if op_t is max_tag else INFINITY
    elif value_t is int8_t:
        return -128 if op_t is max_tag else 127
    elif value_t is int16_t:
        return -32768 if op_t is max_tag else 32767
    elif value_t is int32_t:
        return -2147483648 if op_t is max_tag else 2147483647
    elif value_t is int64_t:
        return (-9223372036854775807 - 1) if op_t is max_tag else 9223372036854775807
    else:   # unsigned
        return 0 if op_t is max_tag else <value_t>(-1)


cdef inline value_t best_of(value_t a, value_t b, op_t *op) noexcept nogil:
    """The better of a and b (b is never NaN; a NaN a gives b)."""
    if op_t is max_tag:
        return a if a > b else b
    else:
        return a if a < b else b


cdef inline value_t pass_after(value_t kth, value_t bound, op_t *op) noexcept nogil:
    """Pass threshold of a full buffer whose k-th best is kth: the first value that beats kth,
    or the block bound when that is tighter (see :func:`passes`)."""
    cdef value_t t
    if value_t is float or value_t is double:
        if kth != kth:
            return bound            # every non-NaN value beats NaN
        t = kth                     # (ties pass the filter and fail the exact test)
    else:
        if op_t is max_tag:
            # (at the type's largest value nothing beats kth: ties pass, the exact test fails them)
            t = kth if kth == worst(<value_t *>NULL, <min_tag *>NULL) else kth + 1
        else:
            t = kth if kth == worst(<value_t *>NULL, <max_tag *>NULL) else kth - 1
    return best_of(t, bound, op)


cdef inline bint passes(value_t v, value_t t, op_t *op) noexcept nogil:
    """The row kernel's pass test (as the vectorized filters): not worse than t, or NaN."""
    if op_t is max_tag:
        return not (v < t)
    else:
        return not (v > t)


cdef inline uint32_t pass_mask(const value_t *q, const value_t *t, op_t *op) noexcept nogil:
    """Bit j set where q[j] passes t[j], for a group of GROUP (32) elements."""
    cdef uint32_t m = 0
    cdef int j, hit
    if value_t is float:
        return ooc_passmask32_f32_max(q, t) if op_t is max_tag else ooc_passmask32_f32_min(q, t)
    elif value_t is double:
        return ooc_passmask32_f64_max(q, t) if op_t is max_tag else ooc_passmask32_f64_min(q, t)
    else:
        if op_t is max_tag:
            if value_t is int8_t: hit = ooc_anypass_i8_max(q, t, GROUP)
            elif value_t is int16_t: hit = ooc_anypass_i16_max(q, t, GROUP)
            elif value_t is int32_t: hit = ooc_anypass_i32_max(q, t, GROUP)
            elif value_t is int64_t: hit = ooc_anypass_i64_max(q, t, GROUP)
            elif value_t is uint8_t: hit = ooc_anypass_u8_max(q, t, GROUP)
            elif value_t is uint16_t: hit = ooc_anypass_u16_max(q, t, GROUP)
            elif value_t is uint32_t: hit = ooc_anypass_u32_max(q, t, GROUP)
            else: hit = ooc_anypass_u64_max(q, t, GROUP)
        else:
            if value_t is int8_t: hit = ooc_anypass_i8_min(q, t, GROUP)
            elif value_t is int16_t: hit = ooc_anypass_i16_min(q, t, GROUP)
            elif value_t is int32_t: hit = ooc_anypass_i32_min(q, t, GROUP)
            elif value_t is int64_t: hit = ooc_anypass_i64_min(q, t, GROUP)
            elif value_t is uint8_t: hit = ooc_anypass_u8_min(q, t, GROUP)
            elif value_t is uint16_t: hit = ooc_anypass_u16_min(q, t, GROUP)
            elif value_t is uint32_t: hit = ooc_anypass_u32_min(q, t, GROUP)
            else: hit = ooc_anypass_u64_min(q, t, GROUP)
        if hit:
            for j in range(GROUP):
                if passes(q[j], t[j], op):
                    m |= (<uint32_t>1) << j
        return m


cdef inline void network_step(value_t *sel, value_t *m, intp_t w, op_t *op) noexcept nogil:
    """sel[j] keeps the better of sel[j] and m[j], m[j] takes the other (ooc_net_*)."""
    if op_t is max_tag:
        if value_t is float: ooc_net_f32_max(sel, m, w)
        elif value_t is double: ooc_net_f64_max(sel, m, w)
        elif value_t is int8_t: ooc_net_i8_max(sel, m, w)
        elif value_t is int16_t: ooc_net_i16_max(sel, m, w)
        elif value_t is int32_t: ooc_net_i32_max(sel, m, w)
        elif value_t is int64_t: ooc_net_i64_max(sel, m, w)
        elif value_t is uint8_t: ooc_net_u8_max(sel, m, w)
        elif value_t is uint16_t: ooc_net_u16_max(sel, m, w)
        elif value_t is uint32_t: ooc_net_u32_max(sel, m, w)
        else: ooc_net_u64_max(sel, m, w)
    else:
        if value_t is float: ooc_net_f32_min(sel, m, w)
        elif value_t is double: ooc_net_f64_min(sel, m, w)
        elif value_t is int8_t: ooc_net_i8_min(sel, m, w)
        elif value_t is int16_t: ooc_net_i16_min(sel, m, w)
        elif value_t is int32_t: ooc_net_i32_min(sel, m, w)
        elif value_t is int64_t: ooc_net_i64_min(sel, m, w)
        elif value_t is uint8_t: ooc_net_u8_min(sel, m, w)
        elif value_t is uint16_t: ooc_net_u16_min(sel, m, w)
        elif value_t is uint32_t: ooc_net_u32_min(sel, m, w)
        else: ooc_net_u64_min(sel, m, w)


cdef inline void consider(value_t v, count_t r, intp_t j, intp_t kk, value_t *bv, count_t *bc,
                          value_t *tt, const value_t *t0, intp_t *cnt, op_t *op) noexcept nogil:
    """The exact test of element (v, r) of column j, which passed the filter."""
    cdef intp_t c = cnt[j]
    cdef value_t *cv = bv + j * kk
    cdef count_t *cc = bc + j * kk
    if c < kk:
        insert_column(v, r, cv, cc, c, op)
        cnt[j] = c + 1
        if c + 1 == kk:
            tt[j] = pass_after(cv[kk - 1], t0[j], op)
    elif beats(v, cv[kk - 1], op):
        insert_column(v, r, cv, cc, kk - 1, op)
        tt[j] = pass_after(cv[kk - 1], t0[j], op)


cdef void rows_tile(const char *p, intp_t ks, intp_t n, intp_t w, intp_t kk, value_t *bv,
                    count_t *bc, value_t *work, intp_t *cnt, op_t *op) noexcept nogil:
    """Best kk rows of each of w contiguous columns into bv/bc (column j at bv[j * kk:]).

    Two passes over the tile (sized to stay in cache).  Pass A splits the rows into about 4 kk
    blocks, takes every block's best value per column and keeps the kk best of those by a
    min/max network: the kk-th of them, t0, is a bound that at least kk elements reach, so no
    element worse than t0 is needed.  Pass B inserts the elements that pass the column's
    threshold (t0, then the first value that beats the buffer's k-th best) into its sorted
    buffer; the test runs on 32 columns at a time and only the passing lanes are visited.

    ``work`` holds (kk + 4) * w values; ``cnt`` w counts.
    """
    cdef value_t *sel = work                 # kk best block values per column (slot-major)
    cdef value_t *m = work + kk * w          # one block's best per column, then the carry
    cdef value_t *tt = work + (kk + 1) * w   # pass thresholds
    cdef value_t *t0 = work + (kk + 2) * w   # block bounds
    cdef intp_t bs, r, r0, r1, j, j0, s
    cdef const value_t *row
    cdef value_t wv = worst(<value_t *>NULL, op)
    cdef uint32_t mask
    bs = (n + 4 * kk - 1) // (4 * kk)
    if bs < 1:
        bs = 1
    # pass A
    for j in range(kk * w):
        sel[j] = wv
    r0 = 0
    while r0 < n:
        r1 = r0 + bs if r0 + bs < n else n
        for j in range(w):
            m[j] = wv
        for r in range(r0, r1):
            row = <const value_t *>(p + r * ks)
            for j in range(w):
                m[j] = best_of(row[j], m[j], op)
        for s in range(kk):
            network_step(sel + s * w, m, w, op)
        r0 = r1
    for j in range(w):
        t0[j] = sel[(kk - 1) * w + j]
        tt[j] = t0[j]
        cnt[j] = 0
    # pass B
    for r in range(n):
        row = <const value_t *>(p + r * ks)
        j0 = 0
        while j0 + GROUP <= w:
            mask = pass_mask(row + j0, tt + j0, op)
            while mask:
                j = j0 + ooc_lowest_bit(mask)
                mask &= mask - 1
                consider(row[j], <count_t>r, j, kk, bv, bc, tt, t0, cnt, op)
            j0 += GROUP
        for j in range(j0, w):
            if passes(row[j], tt[j], op):
                consider(row[j], <count_t>r, j, kk, bv, bc, tt, t0, cnt, op)


cdef int rows_counted(const char *x, intp_t no, intp_t os, intp_t n, intp_t ks, intp_t m,
                      intp_t k, value_t *vout, int64_t *iout, count_t *ctag,
                      op_t *op) noexcept nogil:
    """no blocks (stride os) of n rows (stride ks) of m contiguous elements into (no, m, kk)."""
    cdef intp_t kk = k if k < n else n, o, j0, w, j, tile
    tile = TILE
    cdef value_t *bv = <value_t *>malloc(kk * tile * sizeof(value_t) + 1)
    cdef count_t *bc = <count_t *>malloc(kk * tile * sizeof(count_t) + 1)
    cdef value_t *work = <value_t *>malloc((kk + 4) * tile * sizeof(value_t) + 1)
    cdef intp_t *cnt = <intp_t *>malloc(tile * sizeof(intp_t) + 1)
    if bv == NULL or bc == NULL or work == NULL or cnt == NULL:
        free(bv)
        free(bc)
        free(work)
        free(cnt)
        return -1
    for o in range(no):
        j0 = 0
        while j0 < m:
            w = m - j0 if m - j0 < tile else tile
            rows_tile(x + o * os + j0 * <intp_t>sizeof(value_t), ks, n, w, kk, bv, bc, work, cnt,
                      op)
            for j in range(w * kk):
                vout[(o * m + j0) * kk + j] = bv[j]
                iout[(o * m + j0) * kk + j] = bc[j]
            j0 += w
    free(bv)
    free(bc)
    free(work)
    free(cnt)
    return 0


cdef int rows_typed(const char *x, intp_t no, intp_t os, intp_t n, intp_t ks, intp_t m,
                    intp_t k, value_t *vout, int64_t *iout, op_t *op) noexcept nogil:
    # 32-bit row counters beside values of up to 4 bytes keep the groups' lanes aligned
    if sizeof(value_t) <= 4 and n <= INT32_MAX:
        return rows_counted(x, no, os, n, ks, m, k, vout, iout, <int32_t *>NULL, op)
    return rows_counted(x, no, os, n, ks, m, k, vout, iout, <int64_t *>NULL, op)


# ---------------------------------------------------------------------------------------------
# selection among candidates with arbitrary indices (the combine step)

cdef int select_typed(const value_t *v, const int64_t *ix, intp_t npos, intp_t c, intp_t k,
                      value_t *vout, int64_t *iout, op_t *op) noexcept nogil:
    """For each of npos rows of c candidates, the kk = min(k, c) best pairs, best first."""
    cdef intp_t p, i, s, kk = k if k < c else c
    cdef value_t x
    cdef int64_t xi
    cdef value_t *bv
    cdef int64_t *bi
    for p in range(npos):
        bv = vout + p * kk
        bi = iout + p * kk
        for i in range(c):
            x = v[p * c + i]
            xi = ix[p * c + i]
            if i < kk:
                s = i
            elif before(x, xi, bv[kk - 1], bi[kk - 1], op):
                s = kk - 1
            else:
                continue
            while s > 0 and before(x, xi, bv[s - 1], bi[s - 1], op):
                bv[s] = bv[s - 1]
                bi[s] = bi[s - 1]
                s -= 1
            bv[s] = x
            bi[s] = xi
    return 0


# ---------------------------------------------------------------------------------------------
# dispatch on the dtype and the mode

cdef enum:
    LINES = 0
    ROWS = 1
    SELECT = 2

cdef struct job:
    int kind
    const char *x
    const int64_t *ix
    intp_t no, os, n, ks, m, k
    char *vout
    int64_t *iout


cdef int run_typed(job *j, value_t *vtag, bint largest) noexcept nogil:
    if largest:
        if j.kind == LINES:
            return lines_typed(j.x, j.no, j.os, j.n, j.ks, j.k, <value_t *>j.vout, j.iout,
                               <max_tag *>NULL)
        if j.kind == ROWS:
            return rows_typed(j.x, j.no, j.os, j.n, j.ks, j.m, j.k, <value_t *>j.vout, j.iout,
                              <max_tag *>NULL)
        return select_typed(<const value_t *>j.x, j.ix, j.no, j.n, j.k, <value_t *>j.vout,
                            j.iout, <max_tag *>NULL)
    if j.kind == LINES:
        return lines_typed(j.x, j.no, j.os, j.n, j.ks, j.k, <value_t *>j.vout, j.iout,
                           <min_tag *>NULL)
    if j.kind == ROWS:
        return rows_typed(j.x, j.no, j.os, j.n, j.ks, j.m, j.k, <value_t *>j.vout, j.iout,
                          <min_tag *>NULL)
    return select_typed(<const value_t *>j.x, j.ix, j.no, j.n, j.k, <value_t *>j.vout, j.iout,
                        <min_tag *>NULL)


cdef int run_any(int typenum, job *j, bint largest) noexcept nogil:
    if typenum == cnp.NPY_FLOAT:
        return run_typed(j, <float *>NULL, largest)
    if typenum == cnp.NPY_DOUBLE:
        return run_typed(j, <double *>NULL, largest)
    if typenum == cnp.NPY_BYTE:
        return run_typed(j, <int8_t *>NULL, largest)
    if typenum == cnp.NPY_UBYTE:
        return run_typed(j, <uint8_t *>NULL, largest)
    if typenum == cnp.NPY_SHORT:
        return run_typed(j, <int16_t *>NULL, largest)
    if typenum == cnp.NPY_USHORT:
        return run_typed(j, <uint16_t *>NULL, largest)
    if typenum == cnp.NPY_INT or (typenum == cnp.NPY_LONG and sizeof(long) == 4):
        return run_typed(j, <int32_t *>NULL, largest)
    if typenum == cnp.NPY_UINT or (typenum == cnp.NPY_ULONG and sizeof(long) == 4):
        return run_typed(j, <uint32_t *>NULL, largest)
    if typenum == cnp.NPY_LONG or typenum == cnp.NPY_LONGLONG:
        return run_typed(j, <int64_t *>NULL, largest)
    if typenum == cnp.NPY_ULONG or typenum == cnp.NPY_ULONGLONG:
        return run_typed(j, <uint64_t *>NULL, largest)
    return -2


cdef run(int typenum, job *j, bint largest):
    cdef int rc
    with nogil:
        rc = run_any(typenum, j, largest)
    if rc == -1:
        raise MemoryError()
    if rc == -2:
        raise TypeError("no compiled top-k kernel for this dtype")


def is_supported(dtype):
    """True when ``dtype`` has a compiled kernel (native byte order, bool, ints, float32/64)."""
    dtype = np.dtype(dtype)
    return dtype.isnative and dtype in SUPPORTED


def _readable(x):
    """``x`` as the kernels read it: aligned, bool as 0/1 bytes."""
    if x.dtype == np.bool_:
        x = (x.view(np.uint8) != 0).view(np.uint8)   # any nonzero byte is True, as numpy says
    if not x.flags.aligned:
        x = x.copy()
    return x


def line_topk(x, Py_ssize_t axis, Py_ssize_t k, bint largest):
    """The ``min(k, n)`` best elements along ``axis`` of one chunk, in one pass over its memory.

    Parameters
    ----------
    x : numpy.ndarray
        At least 1-d, a dtype for which :func:`is_supported` holds, ``x.shape[axis] > 0``, any
        memory layout.
    axis : int
        Non-negative axis to reduce.
    k : int
        Pairs kept per line (at least 1).
    largest : bool
        Largest values first (else smallest); NaN last either way, then the smaller index.

    Returns
    -------
    values, indices : numpy.ndarray
        Shape ``x.shape`` without ``axis`` plus a last axis of ``min(k, n)``; indices are int64
        positions along ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> line_topk(np.array([[3.0, np.nan, 3.0, 7.0], [1.0, 2.0, 0.0, 2.0]]), 1, 3, True)
    (array([[7., 3., 3.],
           [2., 2., 1.]]), array([[3, 0, 2],
           [1, 3, 0]]))
    >>> line_topk(np.array([[3, 9], [7, 1], [7, 0]], dtype=np.int16), 0, 2, False)
    (array([[3, 7],
           [0, 1]], dtype=int16), array([[0, 1],
           [2, 1]]))
    """
    cdef job j
    x = np.asarray(x)
    dtype = x.dtype
    if not is_supported(dtype):
        raise TypeError(f"no compiled top-k kernel for dtype {dtype}")
    nd = x.ndim
    if not 0 <= axis < nd:
        raise ValueError(f"axis {axis} is out of range for a {nd}-d chunk")
    n = x.shape[axis]
    if n == 0 or k < 1:
        raise ValueError("line_topk needs a non-empty axis and k >= 1")
    x = _readable(x)
    kk = min(k, n)
    itemsize = x.dtype.itemsize
    others = [d for d in range(nd) if d != axis]
    movable = [d for d in others if x.shape[d] > 1]
    inner = min(movable, key=lambda d: abs(x.strides[d])) if movable else -1
    rows = inner >= 0 and n > 1 and abs(x.strides[inner]) < abs(x.strides[axis])
    if rows:
        y = np.moveaxis(x, (axis, inner), (-2, -1))
        outer = tuple(y.shape[:nd - 2])
        m = x.shape[inner]
        y = y.reshape((-1, n, m))
        if y.strides[2] != itemsize:
            y = np.ascontiguousarray(y)
        values = np.empty((y.shape[0], m, kk), dtype=x.dtype)
        indices = np.empty((y.shape[0], m, kk), dtype=np.int64)
        j.kind = ROWS
        j.no, j.os, j.n, j.ks, j.m = y.shape[0], y.strides[0], n, y.strides[1], m
    else:
        y = np.moveaxis(x, axis, -1)
        outer = tuple(y.shape[:nd - 1])
        y = y.reshape((-1, n))
        values = np.empty((y.shape[0], kk), dtype=x.dtype)
        indices = np.empty((y.shape[0], kk), dtype=np.int64)
        j.kind = LINES
        j.no, j.os, j.n, j.ks, j.m = y.shape[0], y.strides[0], n, y.strides[1], 1
    j.k = kk
    j.x = <const char *>cnp.PyArray_DATA(y)
    j.ix = NULL
    j.vout = <char *>cnp.PyArray_DATA(values)
    j.iout = <int64_t *>cnp.PyArray_DATA(indices)
    if y.shape[0]:
        run(y.dtype.num, &j, largest)
    if rows:
        # (outer..., m, kk) -> the kept axes in x's order, then kk
        values = values.reshape(outer + (m, kk))
        indices = indices.reshape(outer + (m, kk))
        at = sum(1 for d in others if d < inner)
        values = np.moveaxis(values, -2, at)
        indices = np.moveaxis(indices, -2, at)
    else:
        values = values.reshape(outer + (kk,))
        indices = indices.reshape(outer + (kk,))
    if dtype == np.bool_:
        values = values.view(np.bool_)
    return values, indices


def select(values, indices, Py_ssize_t k, bint largest):
    """The ``min(k, c)`` best (value, index) pairs of each row of c candidates, best first.

    Parameters
    ----------
    values : numpy.ndarray
        2-d, a dtype for which :func:`is_supported` holds.
    indices : numpy.ndarray of int64
        Same shape; any order, ties between equal values go to the smaller index.
    k : int
    largest : bool

    Examples
    --------
    >>> import numpy as np
    >>> select(np.array([[1.0, 5.0, np.nan, 5.0]]), np.array([[7, 9, 0, 2]]), 3, True)
    (array([[5., 5., 1.]]), array([[2, 9, 7]]))
    """
    cdef job j
    dtype = values.dtype
    if not is_supported(dtype):
        raise TypeError(f"no compiled top-k kernel for dtype {dtype}")
    v = np.ascontiguousarray(_readable(values))
    ix = np.ascontiguousarray(indices, dtype=np.int64)
    if v.ndim != 2 or ix.shape != v.shape:
        raise ValueError("select needs 2-d values and indices of the same shape")
    npos, c = v.shape
    kk = min(k, c)
    vout = np.empty((npos, kk), dtype=v.dtype)
    iout = np.empty((npos, kk), dtype=np.int64)
    j.kind = SELECT
    j.x = <const char *>cnp.PyArray_DATA(v)
    j.ix = <const int64_t *>cnp.PyArray_DATA(ix)
    j.no, j.n, j.k = npos, c, kk
    j.os = j.ks = j.m = 0
    j.vout = <char *>cnp.PyArray_DATA(vout)
    j.iout = <int64_t *>cnp.PyArray_DATA(iout)
    if npos and kk:
        run(v.dtype.num, &j, largest)
    if dtype == np.bool_:
        vout = vout.view(np.bool_)
    return vout, iout

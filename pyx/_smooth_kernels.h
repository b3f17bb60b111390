/* Streaming (max, count, rest) kernels of ooc.logsumexp / ooc.softmax, for float and double.
 *
 * For every output position they return the largest element M, the number of elements equal
 * to M and rest = sum over the other elements of exp(x - M).  One read of the data: a tile of
 * the input (a few KiB, in L1) is scanned for its maximum, the running triple is rescaled when
 * the maximum grows, and the tile is scanned again from the cache for the exponentials.
 *
 * The exponentials use GCC vector extensions.  With GCC on x86-64 the kernels are compiled three
 * times, for x86-64-v4 (AVX-512, 64-byte vectors), x86-64-v3 (AVX2 and FMA, 32 bytes) and the
 * baseline (SSE2, 16 bytes), and the widest the CPU runs is picked on first use; elsewhere only
 * the baseline (16-byte vectors) is built.  exp(d) for d <= 0 is 2^n * p(r) with n = round(d / ln 2),
 * r = d - n ln 2 (two-constant Cody-Waite reduction, |r| <= ln 2 / 2) and p the Taylor
 * polynomial of degree 7 (float, truncation error 7e-9 relative) or 13 (double, 6e-18), its
 * coefficients prescaled by a power of two so that subnormal results (d below -87.3 for float,
 * -708.4 for double) are rounded once rather than flushed: next to the maximum's exp(0) = 1 they
 * vanish, but where the maximum is 0 the answer log1p(rest) is rest itself, a subnormal or tiny
 * number (scipy's logsumexp([0, -720]) is 2.03e-313).  d below -104 (float) or -746 (double)
 * gives 0, as exp rounds there.  NaN gives 0 there; NaN in the input is flagged separately and
 * makes M NaN.  Build without -ffast-math (which also flushes subnormals to zero): the
 * rounding trick and the subnormal results rely on IEEE arithmetic.
 */
#ifndef OOC_SMOOTH_KERNELS_H
#define OOC_SMOOTH_KERNELS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  /* 64-byte vectors only pass between inlined helpers */
#endif

/* OOC_SMOOTH_PORTABLE (setup.py defines it for OOC_DISPATCH=0) or OOC_NO_DISPATCH: the
 * baseline only, whatever the CPU */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12 \
    && !defined(OOC_NO_DISPATCH) && !defined(OOC_SMOOTH_PORTABLE)
#define OOC_DISPATCH 1
#else
#define OOC_DISPATCH 0
#endif

#define OOC_INLINE static inline __attribute__((always_inline))
#define OOC_CAT_(a, b) a##b
#define OOC_CAT(a, b) OOC_CAT_(a, b)

typedef void (*ooc_rows_f32_fn)(const float *, intptr_t, intptr_t, intptr_t, double *, double *,
                                double *);
typedef void (*ooc_rows_f64_fn)(const double *, intptr_t, intptr_t, intptr_t, double *,
                                double *, double *);
typedef void (*ooc_cols_f32_fn)(const float *, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                                double *, double *, double *);
typedef void (*ooc_cols_f64_fn)(const double *, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                                double *, double *, double *);

/* Every instruction set level defines ooc_lse_{rows,cols}_{f32,f64}<suffix>. */
#if OOC_DISPATCH
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
#define OOC_ISA _v4
#define OOC_VBYTES 64
#include "_smooth_isa.h"
#undef OOC_ISA
#undef OOC_VBYTES
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#define OOC_ISA _v3
#define OOC_VBYTES 32
#include "_smooth_isa.h"
#undef OOC_ISA
#undef OOC_VBYTES
#pragma GCC pop_options
#endif

#define OOC_ISA _base
#define OOC_VBYTES 16
#include "_smooth_isa.h"
#undef OOC_ISA
#undef OOC_VBYTES

/* 0: baseline, 1: x86-64-v3 (AVX2), 2: x86-64-v4 (AVX-512); -1 until first use */
static int ooc_smooth_level = -1;

static int ooc_smooth_best_level(void)
{
#if OOC_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        return 2;
    if (__builtin_cpu_supports("x86-64-v3"))
        return 1;
#endif
    return 0;
}

/* Use `level` (clipped to what the CPU runs), or the best when level < 0; returns the level. */
static int ooc_smooth_set_level(int level)
{
    int best = ooc_smooth_best_level();
    ooc_smooth_level = (level < 0 || level > best) ? best : level;
    return ooc_smooth_level;
}

static int ooc_smooth_get_level(void)
{
    if (ooc_smooth_level < 0)
        ooc_smooth_set_level(-1);
    return ooc_smooth_level;
}

#if OOC_DISPATCH
#define OOC_PICK(name) (ooc_smooth_get_level() == 2 ? OOC_CAT(name, _v4) \
                        : ooc_smooth_get_level() == 1 ? OOC_CAT(name, _v3) : OOC_CAT(name, _base))
#else
#define OOC_PICK(name) OOC_CAT(name, _base)
#endif

static void ooc_lse_rows_f32(const float *x, intptr_t outer, intptr_t n, intptr_t rs,
                             double *om, double *oc, double *orr)
{
    OOC_PICK(ooc_lse_rows_f32)(x, outer, n, rs, om, oc, orr);
}

static void ooc_lse_rows_f64(const double *x, intptr_t outer, intptr_t n, intptr_t rs,
                             double *om, double *oc, double *orr)
{
    OOC_PICK(ooc_lse_rows_f64)(x, outer, n, rs, om, oc, orr);
}

static void ooc_lse_cols_f32(const float *x, intptr_t outer, intptr_t n, intptr_t inner,
                             intptr_t so, intptr_t sn, double *om, double *oc, double *orr)
{
    OOC_PICK(ooc_lse_cols_f32)(x, outer, n, inner, so, sn, om, oc, orr);
}

static void ooc_lse_cols_f64(const double *x, intptr_t outer, intptr_t n, intptr_t inner,
                             intptr_t so, intptr_t sn, double *om, double *oc, double *orr)
{
    OOC_PICK(ooc_lse_cols_f64)(x, outer, n, inner, so, sn, om, oc, orr);
}

#endif

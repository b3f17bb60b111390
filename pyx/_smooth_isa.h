/* The exp helpers and both element types' kernels for one instruction set level; included by
 * _smooth_kernels.h once per level with OOC_ISA (the name suffix) defined, inside a
 * `#pragma GCC target` region for the wider levels.  No include guard on purpose. */

#define OOC_ISA_NAME(name) OOC_CAT(name, OOC_ISA)
#define OOC_VF OOC_ISA_NAME(ooc_vf)
#define OOC_VI OOC_ISA_NAME(ooc_vi)
#define OOC_VD OOC_ISA_NAME(ooc_vd)
#define OOC_VL OOC_ISA_NAME(ooc_vl)

/* vectors as wide as the level's registers (wider ones make GCC split mask operations lane by
 * lane) */
typedef float OOC_VF __attribute__((vector_size(OOC_VBYTES)));
typedef int32_t OOC_VI __attribute__((vector_size(OOC_VBYTES)));
typedef double OOC_VD __attribute__((vector_size(OOC_VBYTES)));
typedef int64_t OOC_VL __attribute__((vector_size(OOC_VBYTES)));

/* exp(d) = 2^n p(r) for d <= 0 (or NaN, giving 0), float lanes, subnormal results included.
 * 2^n alone is not a normal float below n = -126, so the polynomial's coefficients are scaled by
 * 2^-32 (exactly: a power of two) and the exponent by 2^32: p(r) 2^-32 is a normal float and its
 * product with 2^(n + 32) rounds once, to the nearest subnormal if need be.  Same instructions
 * as without the scaling. */
OOC_INLINE OOC_VF OOC_ISA_NAME(ooc_exp_neg_f32)(OOC_VF d)
{
    const OOC_VF zero = {0};
    const OOC_VI ok = d > zero - 104.0f;                /* exp(-104) < 2^-150: rounds to 0 */
    d = (OOC_VF)((OOC_VI)d & ok);
    const OOC_VF magic = zero + 12582912.0f;           /* 1.5 * 2^23: rounds to integer */
    OOC_VF y = d * 1.44269504088896341f + magic;
    OOC_VI n = (OOC_VI)y - (OOC_VI)magic;
    OOC_VF nf = y - magic;
    OOC_VF r = d - nf * 0.693359375f;                  /* ln 2 = 0.693359375 - 2.12194440e-4 */
    r = r - nf * -2.12194440054690583e-4f;
    const float s = 0x1p-32f;
    OOC_VF p = zero + s * (1.0f / 5040.0f);
    p = p * r + s * (1.0f / 720.0f);
    p = p * r + s * (1.0f / 120.0f);
    p = p * r + s * (1.0f / 24.0f);
    p = p * r + s * (1.0f / 6.0f);
    p = p * r + s * 0.5f;
    p = p * r + s;
    p = p * r + s;
    OOC_VF scale = (OOC_VF)((n + (127 + 32)) << 23);    /* 2^(n + 32), n >= -150 */
    return (OOC_VF)((OOC_VI)(p * scale) & ok);
}

/* exp(d) for d <= 0 (or NaN, giving 0), double lanes, subnormal results included: as for float,
 * with the coefficients scaled by 2^-64 and 2^n by 2^64. */
OOC_INLINE OOC_VD OOC_ISA_NAME(ooc_exp_neg_f64)(OOC_VD d)
{
    const OOC_VD zero = {0};
    const OOC_VL ok = d > zero - 746.0;                 /* exp(-746) < 2^-1075: rounds to 0 */
    d = (OOC_VD)((OOC_VL)d & ok);
    const OOC_VD magic = zero + 6755399441055744.0;      /* 1.5 * 2^52 */
    OOC_VD y = d * 1.4426950408889634074 + magic;
    OOC_VL n = (OOC_VL)y - (OOC_VL)magic;
    OOC_VD nf = y - magic;
    OOC_VD r = d - nf * 0.693145751953125;              /* ln 2 = hi + lo, hi exact */
    r = r - nf * 1.42860682030941723212e-6;
    const double s = 0x1p-64;
    OOC_VD p = zero + s * (1.0 / 6227020800.0);         /* 1/13! */
    p = p * r + s * (1.0 / 479001600.0);
    p = p * r + s * (1.0 / 39916800.0);
    p = p * r + s * (1.0 / 3628800.0);
    p = p * r + s * (1.0 / 362880.0);
    p = p * r + s * (1.0 / 40320.0);
    p = p * r + s * (1.0 / 5040.0);
    p = p * r + s * (1.0 / 720.0);
    p = p * r + s * (1.0 / 120.0);
    p = p * r + s * (1.0 / 24.0);
    p = p * r + s * (1.0 / 6.0);
    p = p * r + s * 0.5;
    p = p * r + s;
    p = p * r + s;
    OOC_VD scale = (OOC_VD)((n + (1023 + 64)) << 52);   /* 2^(n + 64), n >= -1077 */
    return (OOC_VD)((OOC_VL)(p * scale) & ok);
}

#define OOC_EXP64 OOC_ISA_NAME(ooc_exp_neg_f64)

#define OOC_T float
#define OOC_V OOC_VF
#define OOC_IV OOC_VI
#define OOC_W (OOC_VBYTES / 4)
#define OOC_EXP OOC_ISA_NAME(ooc_exp_neg_f32)
#define OOC_NAME(name) OOC_CAT(OOC_CAT(name, _f32), OOC_ISA)
#include "_smooth_template.h"
#undef OOC_T
#undef OOC_V
#undef OOC_IV
#undef OOC_W
#undef OOC_EXP
#undef OOC_NAME

#define OOC_T double
#define OOC_V OOC_VD
#define OOC_IV OOC_VL
#define OOC_W (OOC_VBYTES / 8)
#define OOC_EXP OOC_ISA_NAME(ooc_exp_neg_f64)
#define OOC_NAME(name) OOC_CAT(OOC_CAT(name, _f64), OOC_ISA)
#include "_smooth_template.h"
#undef OOC_T
#undef OOC_V
#undef OOC_IV
#undef OOC_W
#undef OOC_EXP
#undef OOC_NAME

#undef OOC_EXP64
#undef OOC_VF
#undef OOC_VI
#undef OOC_VD
#undef OOC_VL
#undef OOC_ISA_NAME

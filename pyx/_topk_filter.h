/* The vector loops of the top-k kernels (pyx/topk.pxi), in C so that the compiler vectorizes them.
 *
 * Filters: may an element of a group beat its threshold?  The answer may be a false "yes" (a tie
 * passes), never a false "no": the caller then runs the exact test.  Plain loops (a compare and an
 * OR per element, no branch), or SSE2 / AVX2 / AVX-512 intrinsics where the build has them.
 * The line kernel's float thresholds are the k-th best with NaN replaced by -inf (largest) or
 * +inf (smallest), so every non-NaN element passes a NaN threshold.
 */
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define OOC_TOPK_FILTERS(T, ACC, NAME, GT, LT)                                              \
    static inline int ooc_any_##NAME##_max(const T *q, T t, intptr_t n) {                   \
        ACC hit = 0;                                                                          \
        for (intptr_t j = 0; j < n; j++) hit |= (ACC)(GT(q[j], t));                           \
        return hit != 0;                                                                      \
    }                                                                                         \
    static inline int ooc_any_##NAME##_min(const T *q, T t, intptr_t n) {                   \
        ACC hit = 0;                                                                          \
        for (intptr_t j = 0; j < n; j++) hit |= (ACC)(LT(q[j], t));                           \
        return hit != 0;                                                                      \
    }

#define OOC_GT(a, b) ((a) > (b))
#define OOC_LT(a, b) ((a) < (b))
#define OOC_GE(a, b) ((a) >= (b))
#define OOC_LE(a, b) ((a) <= (b))

OOC_TOPK_FILTERS(int8_t, int8_t, i8, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(int16_t, int16_t, i16, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(int32_t, int32_t, i32, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(int64_t, int64_t, i64, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(uint8_t, uint8_t, u8, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(uint16_t, uint16_t, u16, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(uint32_t, uint32_t, u32, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(uint64_t, uint64_t, u64, OOC_GT, OOC_LT)
OOC_TOPK_FILTERS(float, int32_t, f32, OOC_GE, OOC_LE)
OOC_TOPK_FILTERS(double, int64_t, f64, OOC_GE, OOC_LE)

/* index of the lowest set bit of a nonzero mask */
#if defined(__GNUC__) || defined(__clang__)
#define ooc_lowest_bit(m) __builtin_ctz(m)
#else
static inline int ooc_lowest_bit(uint32_t m) { int j = 0; while (!(m & 1u)) { m >>= 1; j++; } return j; }
#endif

/* The row kernel's pass test: may q[j] enter column j's buffer, whose pass threshold is t[j]?
 * "largest": not (q < t), "smallest": not (q > t); NaN always passes (the exact test decides). */
#define OOC_TOPK_PASS(T, ACC, NAME)                                                           \
    static inline int ooc_anypass_##NAME##_max(const T *q, const T *t, intptr_t n) {          \
        ACC hit = 0;                                                                          \
        for (intptr_t j = 0; j < n; j++) hit |= (ACC)(!(q[j] < t[j]));                        \
        return hit != 0;                                                                      \
    }                                                                                         \
    static inline int ooc_anypass_##NAME##_min(const T *q, const T *t, intptr_t n) {          \
        ACC hit = 0;                                                                          \
        for (intptr_t j = 0; j < n; j++) hit |= (ACC)(!(q[j] > t[j]));                        \
        return hit != 0;                                                                      \
    }

OOC_TOPK_PASS(int8_t, int8_t, i8)
OOC_TOPK_PASS(int16_t, int16_t, i16)
OOC_TOPK_PASS(int32_t, int32_t, i32)
OOC_TOPK_PASS(int64_t, int64_t, i64)
OOC_TOPK_PASS(uint8_t, uint8_t, u8)
OOC_TOPK_PASS(uint16_t, uint16_t, u16)
OOC_TOPK_PASS(uint32_t, uint32_t, u32)
OOC_TOPK_PASS(uint64_t, uint64_t, u64)

#if defined(__AVX512F__)
#include <immintrin.h>
static inline uint32_t ooc_passmask32_f32_max(const float *q, const float *t) {
    return (uint32_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(q), _mm512_loadu_ps(t), _CMP_NLT_UQ)
           | ((uint32_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(q + 16), _mm512_loadu_ps(t + 16),
                                           _CMP_NLT_UQ) << 16);
}
static inline uint32_t ooc_passmask32_f32_min(const float *q, const float *t) {
    return (uint32_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(q), _mm512_loadu_ps(t), _CMP_NGT_UQ)
           | ((uint32_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(q + 16), _mm512_loadu_ps(t + 16),
                                           _CMP_NGT_UQ) << 16);
}
static inline uint32_t ooc_passmask32_f64_max(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 4; b++)
        m |= (uint32_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(q + 8 * b), _mm512_loadu_pd(t + 8 * b),
                                          _CMP_NLT_UQ) << (8 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f64_min(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 4; b++)
        m |= (uint32_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(q + 8 * b), _mm512_loadu_pd(t + 8 * b),
                                          _CMP_NGT_UQ) << (8 * b);
    return m;
}
#elif defined(__AVX2__)
#include <immintrin.h>
static inline uint32_t ooc_passmask32_f32_max(const float *q, const float *t) {
    uint32_t m = 0;
    for (int b = 0; b < 4; b++)
        m |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(q + 8 * b),
                                                        _mm256_loadu_ps(t + 8 * b),
                                                        _CMP_NLT_UQ)) << (8 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f32_min(const float *q, const float *t) {
    uint32_t m = 0;
    for (int b = 0; b < 4; b++)
        m |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(q + 8 * b),
                                                        _mm256_loadu_ps(t + 8 * b),
                                                        _CMP_NGT_UQ)) << (8 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f64_max(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(q + 4 * b),
                                                        _mm256_loadu_pd(t + 4 * b),
                                                        _CMP_NLT_UQ)) << (4 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f64_min(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(q + 4 * b),
                                                        _mm256_loadu_pd(t + 4 * b),
                                                        _CMP_NGT_UQ)) << (4 * b);
    return m;
}
#elif defined(__SSE2__)
static inline uint32_t ooc_passmask32_f32_max(const float *q, const float *t) {
    uint32_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint32_t)_mm_movemask_ps(_mm_cmpnlt_ps(_mm_loadu_ps(q + 4 * b),
                                                     _mm_loadu_ps(t + 4 * b))) << (4 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f32_min(const float *q, const float *t) {
    uint32_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint32_t)_mm_movemask_ps(_mm_cmpngt_ps(_mm_loadu_ps(q + 4 * b),
                                                     _mm_loadu_ps(t + 4 * b))) << (4 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f64_max(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 16; b++)
        m |= (uint32_t)_mm_movemask_pd(_mm_cmpnlt_pd(_mm_loadu_pd(q + 2 * b),
                                                     _mm_loadu_pd(t + 2 * b))) << (2 * b);
    return m;
}
static inline uint32_t ooc_passmask32_f64_min(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 16; b++)
        m |= (uint32_t)_mm_movemask_pd(_mm_cmpngt_pd(_mm_loadu_pd(q + 2 * b),
                                                     _mm_loadu_pd(t + 2 * b))) << (2 * b);
    return m;
}
#else
#define OOC_PASSMASK32(T, NAME, CMP)                                                          \
    static inline uint32_t ooc_passmask32_##NAME(const T *q, const T *t) {                    \
        uint32_t m = 0;                                                                       \
        for (int j = 0; j < 32; j++) m |= (uint32_t)(!(CMP(q[j], t[j]))) << j;                \
        return m;                                                                             \
    }
OOC_PASSMASK32(float, f32_max, OOC_LT)
OOC_PASSMASK32(float, f32_min, OOC_GT)
OOC_PASSMASK32(double, f64_max, OOC_LT)
OOC_PASSMASK32(double, f64_min, OOC_GT)
#endif

/* One step of the row kernel's selection network: sel[j] keeps the better of sel[j] and m[j],
 * m[j] carries the other on to the next slot ("max": larger is better).  No NaN reaches it. */
#define OOC_TOPK_NET(T, NAME, SIGNED_T)                                                       \
    static inline void ooc_net_##NAME##_max(T *restrict sel, T *restrict m, intptr_t w) {     \
        for (intptr_t j = 0; j < w; j++) {                                                    \
            T a = m[j], c = sel[j];                                                           \
            T gt = (T)(-(SIGNED_T)(a > c));                                                   \
            sel[j] = (T)((a & gt) | (c & (T)~gt));                                            \
            m[j] = (T)((c & gt) | (a & (T)~gt));                                              \
        }                                                                                     \
    }                                                                                         \
    static inline void ooc_net_##NAME##_min(T *restrict sel, T *restrict m, intptr_t w) {     \
        for (intptr_t j = 0; j < w; j++) {                                                    \
            T a = m[j], c = sel[j];                                                           \
            T lt = (T)(-(SIGNED_T)(a < c));                                                   \
            sel[j] = (T)((a & lt) | (c & (T)~lt));                                            \
            m[j] = (T)((c & lt) | (a & (T)~lt));                                              \
        }                                                                                     \
    }

OOC_TOPK_NET(int8_t, i8, int8_t)
OOC_TOPK_NET(int16_t, i16, int16_t)
OOC_TOPK_NET(int32_t, i32, int32_t)
OOC_TOPK_NET(int64_t, i64, int64_t)
OOC_TOPK_NET(uint8_t, u8, int8_t)
OOC_TOPK_NET(uint16_t, u16, int16_t)
OOC_TOPK_NET(uint32_t, u32, int32_t)
OOC_TOPK_NET(uint64_t, u64, int64_t)

#if defined(__AVX2__)
#include <immintrin.h>
/* maxps(a, c) is "a > c ? a : c" and minps(c, a) "c < a ? c : a", exactly the scalar rules */
#define OOC_NETV(T, NAME, V, W, LOAD, STORE, MAX, MIN)                                        \
    static inline void ooc_net_##NAME##_max(T *sel, T *m, intptr_t w) {                       \
        intptr_t j = 0;                                                                       \
        for (; j + W <= w; j += W) {                                                          \
            V a = LOAD(m + j), c = LOAD(sel + j);                                             \
            STORE(sel + j, MAX(a, c));                                                        \
            STORE(m + j, MIN(c, a));                                                          \
        }                                                                                     \
        for (; j < w; j++) { T a = m[j], c = sel[j]; sel[j] = a > c ? a : c; m[j] = c < a ? c : a; } \
    }                                                                                         \
    static inline void ooc_net_##NAME##_min(T *sel, T *m, intptr_t w) {                       \
        intptr_t j = 0;                                                                       \
        for (; j + W <= w; j += W) {                                                          \
            V a = LOAD(m + j), c = LOAD(sel + j);                                             \
            STORE(sel + j, MIN(a, c));                                                        \
            STORE(m + j, MAX(c, a));                                                          \
        }                                                                                     \
        for (; j < w; j++) { T a = m[j], c = sel[j]; sel[j] = a < c ? a : c; m[j] = c > a ? c : a; } \
    }
OOC_NETV(float, f32, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_max_ps, _mm256_min_ps)
OOC_NETV(double, f64, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_max_pd, _mm256_min_pd)
#elif defined(__SSE2__)
/* maxps(a, c) is "a > c ? a : c" and minps(c, a) "c < a ? c : a", exactly the scalar rules */
static inline void ooc_net_f32_max(float *sel, float *m, intptr_t w) {
    intptr_t j = 0;
    for (; j + 4 <= w; j += 4) {
        __m128 a = _mm_loadu_ps(m + j), c = _mm_loadu_ps(sel + j);
        _mm_storeu_ps(sel + j, _mm_max_ps(a, c));
        _mm_storeu_ps(m + j, _mm_min_ps(c, a));
    }
    for (; j < w; j++) { float a = m[j], c = sel[j]; sel[j] = a > c ? a : c; m[j] = c < a ? c : a; }
}
static inline void ooc_net_f32_min(float *sel, float *m, intptr_t w) {
    intptr_t j = 0;
    for (; j + 4 <= w; j += 4) {
        __m128 a = _mm_loadu_ps(m + j), c = _mm_loadu_ps(sel + j);
        _mm_storeu_ps(sel + j, _mm_min_ps(a, c));
        _mm_storeu_ps(m + j, _mm_max_ps(c, a));
    }
    for (; j < w; j++) { float a = m[j], c = sel[j]; sel[j] = a < c ? a : c; m[j] = c > a ? c : a; }
}
static inline void ooc_net_f64_max(double *sel, double *m, intptr_t w) {
    intptr_t j = 0;
    for (; j + 2 <= w; j += 2) {
        __m128d a = _mm_loadu_pd(m + j), c = _mm_loadu_pd(sel + j);
        _mm_storeu_pd(sel + j, _mm_max_pd(a, c));
        _mm_storeu_pd(m + j, _mm_min_pd(c, a));
    }
    for (; j < w; j++) { double a = m[j], c = sel[j]; sel[j] = a > c ? a : c; m[j] = c < a ? c : a; }
}
static inline void ooc_net_f64_min(double *sel, double *m, intptr_t w) {
    intptr_t j = 0;
    for (; j + 2 <= w; j += 2) {
        __m128d a = _mm_loadu_pd(m + j), c = _mm_loadu_pd(sel + j);
        _mm_storeu_pd(sel + j, _mm_min_pd(a, c));
        _mm_storeu_pd(m + j, _mm_max_pd(c, a));
    }
    for (; j < w; j++) { double a = m[j], c = sel[j]; sel[j] = a < c ? a : c; m[j] = c > a ? c : a; }
}
#else
#define OOC_TOPK_NETF(T, NAME)                                                                \
    static inline void ooc_net_##NAME##_max(T *sel, T *m, intptr_t w) {                       \
        for (intptr_t j = 0; j < w; j++) {                                                    \
            T a = m[j], c = sel[j]; sel[j] = a > c ? a : c; m[j] = c < a ? c : a;             \
        }                                                                                     \
    }                                                                                         \
    static inline void ooc_net_##NAME##_min(T *sel, T *m, intptr_t w) {                       \
        for (intptr_t j = 0; j < w; j++) {                                                    \
            T a = m[j], c = sel[j]; sel[j] = a < c ? a : c; m[j] = c > a ? c : a;             \
        }                                                                                     \
    }
OOC_TOPK_NETF(float, f32)
OOC_TOPK_NETF(double, f64)
#endif

/* The line kernel's lanes: bit j of the mask set where q[j] may beat the threshold t, for 64
 * elements (floats: q >= t, so a tie passes and NaN does not; the thresholds replace NaN). */
#if defined(__AVX512F__)
static inline uint64_t ooc_mask64_f32_max(const float *q, float t) {
    __m512 v = _mm512_set1_ps(t);
    uint64_t m = 0;
    for (int b = 0; b < 4; b++)
        m |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(q + 16 * b), v, _CMP_GE_OQ) << (16 * b);
    return m;
}
static inline uint64_t ooc_mask64_f32_min(const float *q, float t) {
    __m512 v = _mm512_set1_ps(t);
    uint64_t m = 0;
    for (int b = 0; b < 4; b++)
        m |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(q + 16 * b), v, _CMP_LE_OQ) << (16 * b);
    return m;
}
#elif defined(__AVX2__)
static inline uint64_t ooc_mask64_f32_max(const float *q, float t) {
    __m256 v = _mm256_set1_ps(t);
    uint64_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(q + 8 * b), v,
                                                        _CMP_GE_OQ)) << (8 * b);
    return m;
}
static inline uint64_t ooc_mask64_f32_min(const float *q, float t) {
    __m256 v = _mm256_set1_ps(t);
    uint64_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(q + 8 * b), v,
                                                        _CMP_LE_OQ)) << (8 * b);
    return m;
}
#elif defined(__SSE2__)
static inline uint64_t ooc_mask64_f32_max(const float *q, float t) {
    __m128 v = _mm_set1_ps(t);
    uint64_t m = 0;
    for (int b = 0; b < 16; b++)
        m |= (uint64_t)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(q + 4 * b), v)) << (4 * b);
    return m;
}
static inline uint64_t ooc_mask64_f32_min(const float *q, float t) {
    __m128 v = _mm_set1_ps(t);
    uint64_t m = 0;
    for (int b = 0; b < 16; b++)
        m |= (uint64_t)_mm_movemask_ps(_mm_cmple_ps(_mm_loadu_ps(q + 4 * b), v)) << (4 * b);
    return m;
}
#else
static inline uint64_t ooc_mask64_f32_max(const float *q, float t) {
    uint64_t m = 0;
    for (int j = 0; j < 64; j++) m |= (uint64_t)(q[j] >= t) << j;
    return m;
}
static inline uint64_t ooc_mask64_f32_min(const float *q, float t) {
    uint64_t m = 0;
    for (int j = 0; j < 64; j++) m |= (uint64_t)(q[j] <= t) << j;
    return m;
}
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ooc_lowest_bit64(m) __builtin_ctzll(m)
#else
static inline int ooc_lowest_bit64(uint64_t m) { int j = 0; while (!(m & 1u)) { m >>= 1; j++; } return j; }
#endif

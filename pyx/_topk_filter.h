/* Filters of the top-k kernels: does any element of a group beat its threshold?
 *
 * Plain loops that the compiler vectorizes (a compare and an OR per element, no branch).  The
 * answer may be a false "yes" (floats compare with >= / <=, so a tie passes), never a false "no":
 * the caller then runs the exact insertion.  Float thresholds are the k-th best with NaN replaced
 * by -inf (largest) or +inf (smallest), so every non-NaN element passes a NaN threshold.
 */
#include <stdint.h>

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
    }                                                                                         \
    static inline int ooc_anyrow_##NAME##_max(const T *q, const T *t, intptr_t n) {         \
        ACC hit = 0;                                                                          \
        for (intptr_t j = 0; j < n; j++) hit |= (ACC)(GT(q[j], t[j]));                        \
        return hit != 0;                                                                      \
    }                                                                                         \
    static inline int ooc_anyrow_##NAME##_min(const T *q, const T *t, intptr_t n) {         \
        ACC hit = 0;                                                                          \
        for (intptr_t j = 0; j < n; j++) hit |= (ACC)(LT(q[j], t[j]));                        \
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

/* The lanes of a group of 32 elements that may beat their thresholds, as a bit mask (bit j for
 * element j; again never a false no).  SSE2 for float32/float64, a plain loop otherwise. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline uint32_t ooc_mask32_f32_max(const float *q, const float *t) {
    uint32_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint32_t)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(q + 4 * b),
                                                    _mm_loadu_ps(t + 4 * b))) << (4 * b);
    return m;
}
static inline uint32_t ooc_mask32_f32_min(const float *q, const float *t) {
    uint32_t m = 0;
    for (int b = 0; b < 8; b++)
        m |= (uint32_t)_mm_movemask_ps(_mm_cmple_ps(_mm_loadu_ps(q + 4 * b),
                                                    _mm_loadu_ps(t + 4 * b))) << (4 * b);
    return m;
}
static inline uint32_t ooc_mask32_f64_max(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 16; b++)
        m |= (uint32_t)_mm_movemask_pd(_mm_cmpge_pd(_mm_loadu_pd(q + 2 * b),
                                                    _mm_loadu_pd(t + 2 * b))) << (2 * b);
    return m;
}
static inline uint32_t ooc_mask32_f64_min(const double *q, const double *t) {
    uint32_t m = 0;
    for (int b = 0; b < 16; b++)
        m |= (uint32_t)_mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(q + 2 * b),
                                                    _mm_loadu_pd(t + 2 * b))) << (2 * b);
    return m;
}
#else
#define OOC_MASK32(T, NAME, CMP)                                                              \
    static inline uint32_t ooc_mask32_##NAME(const T *q, const T *t) {                        \
        uint32_t m = 0;                                                                       \
        for (int j = 0; j < 32; j++) m |= (uint32_t)(CMP(q[j], t[j])) << j;                   \
        return m;                                                                             \
    }
OOC_MASK32(float, f32_max, OOC_GE)
OOC_MASK32(float, f32_min, OOC_LE)
OOC_MASK32(double, f64_max, OOC_GE)
OOC_MASK32(double, f64_min, OOC_LE)
#endif

/* index of the lowest set bit of a nonzero mask */
#if defined(__GNUC__) || defined(__clang__)
#define ooc_lowest_bit(m) __builtin_ctz(m)
#else
static inline int ooc_lowest_bit(uint32_t m) { int j = 0; while (!(m & 1u)) { m >>= 1; j++; } return j; }
#endif

# Fused types and comparison tags shared by the ooc kernels.
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t,
                          uint64_t)

# IEEE half precision, held as its bit pattern: C has no portable half arithmetic, so the kernels
# compare half values through order-preserving integer keys.
ctypedef struct half_t:
    uint16_t bits

# Every dtype the compiled kernels reduce without a copy (bool is read as uint8).
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
    half_t

# Local index counters: 32-bit lanes beside 1/2/4-byte values vectorize best, 64-bit beside 8-byte ones.
ctypedef fused count_t:
    int32_t
    int64_t

# Compile-time tags: which extreme wins, and what NaN does.  Each kernel is compiled once per
# combination so that no mode test runs inside a loop.
ctypedef struct max_tag:
    char _unused

ctypedef struct min_tag:
    char _unused

ctypedef fused op_t:
    max_tag
    min_tag

ctypedef struct propagate_tag:   # argmax/argmin: the first NaN wins
    char _unused

ctypedef struct skip_tag:        # nanargmax/nanargmin: NaN never wins
    char _unused

ctypedef fused nan_t:
    propagate_tag
    skip_tag

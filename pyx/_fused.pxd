# Fused types and comparison tags shared by the ooc kernels.
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t,
                          uint64_t)

# IEEE half precision, held as its bit pattern: C has no portable half arithmetic, so the kernels
# compare half values through order-preserving integer keys.
ctypedef struct half_t:
    uint16_t bits

# numpy bool, held as its byte: numpy reads every nonzero byte as True (a bool view of uint8 data
# holds bytes other than 0 and 1), so the kernels compare bytes through "!= 0", never as numbers.
ctypedef struct bool_t:
    uint8_t byte

# Every dtype the compiled kernels reduce without a copy.
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
    bool_t

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

# cython: language_level=3
# ooc._topk_avx512: built for AVX-512 (F, BW, CD, DQ, VL); imported only where the CPU has them.
include "topk.pxi"

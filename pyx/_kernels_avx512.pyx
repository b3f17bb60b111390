# cython: language_level=3
# ooc._kernels_avx512: built with AVX-512 (F, BW, CD, DQ, VL), imported only on CPUs that have them.
include "kernels.pxi"

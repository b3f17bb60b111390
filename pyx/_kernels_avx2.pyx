# cython: language_level=3
# ooc._kernels_avx2: built with AVX2/FMA/F16C, imported only on CPUs that have them.
include "kernels.pxi"

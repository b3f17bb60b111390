# cython: language_level=3
# ooc._kernels: the portable build: -O3 and the compiler's baseline instruction set.
include "kernels.pxi"

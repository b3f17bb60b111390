# cython: language_level=3
# ooc._topk: the portable build: -O3 and the compiler's baseline instruction set.
include "topk.pxi"

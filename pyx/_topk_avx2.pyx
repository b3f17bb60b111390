# cython: language_level=3
# ooc._topk_avx2: built with -mavx2 -mfma -mf16c; imported only where the CPU has them.
include "topk.pxi"

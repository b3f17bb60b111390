"""Build the Cython kernels of ooc.

Cython runs at build time; no generated C is kept in the repository.  The build is portable:
``-O3`` and no ``-march=native`` unless ``OOC_NATIVE=1`` is set; the user's own CFLAGS are kept
(setuptools appends ours after them).  ``OOC_BOUNDSCHECK=1`` turns Cython's bounds and wraparound
checks back on for debugging.

On x86-64 the same kernels are also compiled for AVX2 and for AVX-512, as numpy does for its own
loops; ``ooc.kernels`` imports the widest one the running CPU supports, so the package still runs on
any x86-64 machine.  ``OOC_DISPATCH=0`` builds the portable code only: the portable argmax module,
and the logsumexp kernel (``ooc._smooth``) without its AVX2 / AVX-512 variants.
"""
import os
import platform
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("OOC_BOUNDSCHECK", "0") == "1"
flags = ["-O3", "-g0"]
if os.environ.get("OOC_NATIVE", "0") == "1":
    flags.append("-march=native")

variants = {"_kernels": []}
x86 = platform.machine().lower() in ("x86_64", "amd64") and sys.platform != "win32"
dispatch = os.environ.get("OOC_DISPATCH", "1") == "1"
if x86 and dispatch and "-march=native" not in flags:
    variants["_kernels_avx2"] = ["-mavx2", "-mfma", "-mf16c"]
    variants["_kernels_avx512"] = ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw",
                                   "-mavx512cd", "-mavx512dq", "-mavx512vl"]

extensions = [
    Extension(
        f"ooc.{name}",
        [f"pyx/{name}.pyx"],
        depends=["pyx/kernels.pxi", "pyx/_fused.pxd"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=flags + isa,
    )
    for name, isa in variants.items()
]
if sys.platform != "win32":
    # logsumexp / soft-argmax kernel; it holds its own AVX2 / AVX-512 variants and picks one at
    # run time, so it gets only the portable flags; OOC_SMOOTH_PORTABLE leaves the variants out.
    # Without it ooc uses numpy for these.
    smooth_macros = [("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")]
    if not dispatch:
        smooth_macros.append(("OOC_SMOOTH_PORTABLE", "1"))
    extensions.append(Extension(
        "ooc._smooth",
        ["pyx/_smooth.pyx"],
        depends=["pyx/_smooth_kernels.h", "pyx/_smooth_isa.h", "pyx/_smooth_template.h"],
        include_dirs=[np.get_include()],
        define_macros=smooth_macros,
        extra_compile_args=flags,
    ))

# top-k kernels: one build per instruction set, as for the argmax kernels
extensions += [
    Extension(
        f"ooc.{name.replace('_kernels', '_topk')}",
        [f"pyx/{name.replace('_kernels', '_topk')}.pyx"],
        depends=["pyx/topk.pxi", "pyx/_fused.pxd", "pyx/_topk_filter.h"],
        include_dirs=[np.get_include(), "pyx"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=flags + isa,
    )
    for name, isa in variants.items()
]

setup(
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
    ext_modules=cythonize(
        extensions,
        language_level=3,
        include_path=["pyx"],
        compiler_directives={
            "boundscheck": debug,
            "wraparound": debug,
            "initializedcheck": debug,
            "cdivision": True,
            "embedsignature": True,
        },
        nthreads=os.cpu_count() or 1,
    )
)

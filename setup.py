"""Build the Cython kernels of ooc.

Cython runs at build time; no generated C is kept in the repository.  The build is portable:
``-O3`` and no ``-march=native`` unless ``OOC_NATIVE=1`` is set; the user's own CFLAGS are kept
(setuptools appends ours after them).  ``OOC_BOUNDSCHECK=1`` turns Cython's bounds and wraparound
checks back on for debugging.
"""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("OOC_BOUNDSCHECK", "0") == "1"
flags = ["-O3"]
if os.environ.get("OOC_NATIVE", "0") == "1":
    flags.append("-march=native")

extensions = [
    Extension(
        "ooc._kernels",
        ["pyx/_kernels.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=flags,
    )
]

setup(
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
    )
)

"""Which compiled build runs the kernels: the one place that picks them.

The argmax-family kernels are compiled once per instruction set (``_kernels``, ``_kernels_avx2``,
``_kernels_avx512``); the widest one this CPU runs is used, or the one ``$OOC_KERNELS`` names,
after a check that the CPU has what it needs (an illegal instruction would kill the process).
The top-k kernels ``_topk*`` are built the same three ways and follow the argmax kernels' choice;
the logsumexp kernel ``_smooth`` holds its own variants and picks one at run time.
"""
import importlib
import os

__all__ = ["KERNEL_BUILDS", "available_kernels", "load_kernels", "missing_features", "arg", "smooth",
           "topk"]

# Kernel builds, widest first, with the CPU features (numpy's names) each one needs.
KERNEL_BUILDS = {
    "avx512": ("_kernels_avx512", ("AVX512F", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL",
                                   "AVX2", "FMA3", "F16C")),
    "avx2": ("_kernels_avx2", ("AVX2", "FMA3", "F16C")),
    "baseline": ("_kernels", ()),
}


def _cpu_features():
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - numpy moved it
        return {}
    return features


def missing_features(name):
    """The CPU features build ``name`` needs that this CPU lacks (empty when it can run it)."""
    features = _cpu_features()
    return [f for f in KERNEL_BUILDS[name][1] if not features.get(f, False)]


def available_kernels():
    """Names of the kernel builds this package has and this CPU can run, widest first."""
    names = []
    for name, (module, _needs) in KERNEL_BUILDS.items():
        if missing_features(name):
            continue
        try:
            importlib.import_module(f".{module}", __package__)
        except ImportError:
            continue
        names.append(name)
    return names


def load_kernels(name=None):
    """The kernel module to use: ``name``, ``$OOC_KERNELS``, or the widest this CPU runs.

    Raises
    ------
    ValueError
        For a name that is not a build.
    RuntimeError
        For a build this CPU cannot run (the message names the missing features) or that was
        not compiled.
    """
    chosen = name or os.environ.get("OOC_KERNELS")
    if not chosen:
        return importlib.import_module(f".{KERNEL_BUILDS[available_kernels()[0]][0]}", __package__)
    if chosen not in KERNEL_BUILDS:
        raise ValueError(f"unknown kernel build {chosen!r}; choose from {sorted(KERNEL_BUILDS)}")
    lacking = missing_features(chosen)
    if lacking:
        raise RuntimeError(f"kernel build {chosen!r} (OOC_KERNELS) needs CPU features this CPU "
                           f"lacks: {', '.join(lacking)}; choose one of {available_kernels()}")
    try:
        return importlib.import_module(f".{KERNEL_BUILDS[chosen][0]}", __package__)
    except ImportError as e:
        raise RuntimeError(f"kernel build {chosen!r} was not compiled into this installation "
                           f"({e}); choose one of {available_kernels()}") from e


#: the argmax-family kernel module in use
arg = load_kernels()

try:
    #: the logsumexp / softmax kernel module, or None (numpy then computes on cache-sized pieces)
    smooth = importlib.import_module("._smooth", __package__)
except ImportError:  # pragma: no cover - built without it
    smooth = None


def _topk_kernels():
    """The top-k kernel module of the same build as :data:`arg` (the portable one if that build
    lacks it), or None."""
    suffix = arg.__name__.rsplit("._kernels", 1)[-1]   # "", "_avx2" or "_avx512"
    for module in dict.fromkeys((f"._topk{suffix}", "._topk")):
        try:
            return importlib.import_module(module, __package__)
        except ImportError:  # pragma: no cover - built without it
            continue
    return None  # pragma: no cover


#: the top-k kernel module, or None (numpy then sorts each chunk)
topk = _topk_kernels()

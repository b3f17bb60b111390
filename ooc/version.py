"""The installed version of ooc (a leaf)."""
from importlib.metadata import PackageNotFoundError, version as _distribution_version

__all__ = ["__version__"]

try:
    __version__ = _distribution_version("ooc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

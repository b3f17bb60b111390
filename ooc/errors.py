"""The exceptions ooc raises for stores and clusters (a leaf: imports nothing from ooc)."""

__all__ = ["StoreError", "StoreNotFoundError", "UnsafeStoreError", "OutputLocationError",
           "ClusterError"]


class StoreError(ValueError):
    """A store could not be opened or used; the message names the store and the problem."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """The path given as a store does not exist (also a FileNotFoundError)."""


class UnsafeStoreError(StoreError):
    """A store names a codec ooc does not decode without the caller's explicit opt-in."""


class ClusterError(RuntimeError):
    """The cluster could not be reached or used (connection, TLS, unreachable store)."""


class OutputLocationError(StoreError):
    """An output location that would write outside itself or into an input store."""

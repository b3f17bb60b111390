"""Hashing input stores, so that tests can show an operation never changed a byte of them."""
import hashlib
import pathlib


def tree_hash(root):
    """sha256 over every file (relative name and bytes) under ``root``, or of one file."""
    root = pathlib.Path(root)
    h = hashlib.sha256()
    if root.is_file():
        h.update(root.read_bytes())
        return h.hexdigest()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


class Inputs:
    """Input stores of a test, hashed when registered and compared after every operation."""

    def __init__(self):
        self.hashes = {}

    def add(self, path):
        self.hashes[pathlib.Path(path)] = tree_hash(path)
        return path

    def check(self):
        for p, h in self.hashes.items():
            assert tree_hash(p) == h, f"input store {p} was modified"

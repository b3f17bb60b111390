"""The ``ooc`` command: argmax-family reductions over Zarr stores, ``ooc info`` and ``ooc demo``.

Reductions: ``argmax``, ``argmin``, ``nanargmax``, ``nanargmin``, ``max-argmax``, ``min-argmin``,
``take-at-argmax`` and ``take-at-argmin`` (the element of ``--values`` where STORE is largest or
smallest), ``logsumexp``, ``soft-argmax`` (the expected index under ``softmax(beta * x)``) and
``softmax`` (as large as its input: written to ``--out``).  ``--axis`` may name several axes
(``--axis 0 --axis 2`` or ``--axis 0,2``): the argmax family then gives the flat C-order index
over those axes in the order given (``ooc.unravel_index`` over their lengths gives coordinates).

The commands are declared in :mod:`ooc.cli.parser`, run by :mod:`ooc.cli.commands` and printed by
:mod:`ooc.cli.output`.

Exit status: 0 on success, 2 on usage errors (bad options, an axis out of range, a result too
large to print without ``--out``, an output store that is the input store), 1 on runtime failures
(a store that cannot be read, a reduction that fails), with a one-line message naming the store;
``--debug`` shows the traceback instead.

Examples
--------
>>> import numpy as np, zarr
>>> z = zarr.create_array("memory://doc-cli", shape=(4, 5), chunks=(2, 2), dtype="i4",
...                       overwrite=True)
>>> z[:] = np.arange(20).reshape(4, 5) % 7
>>> main(["argmax", "memory://doc-cli", "--no-progress"])
argmax of memory://doc-cli: shape (4, 5) int32, axis None
  index   6
  coords  (1, 1)
  value   6
0
>>> main(["argmin", "memory://doc-cli", "--axis", "1", "--json", "--no-progress"])
{"function": "argmin", "store": "memory://doc-cli", "path": null, "shape": [4, 5], "dtype": "int32", "axis": 1, "keepdims": false, "index": [0, 2, 4, 0], "coords": [[0, 0], [1, 2], [2, 4], [3, 0]], "value": [0, 0, 0, 1]}
0
>>> main(["argmax", "memory://doc-cli", "--axis", "1,0", "--json", "--no-progress"])
{"function": "argmax", "store": "memory://doc-cli", "path": null, "shape": [4, 5], "dtype": "int32", "axis": [1, 0], "keepdims": false, "index": 5, "coords": [1, 1], "value": 6}
0
>>> main(["logsumexp", "memory://doc-cli", "--no-progress"])
logsumexp of memory://doc-cli: shape (4, 5) int32, axis None
  value   7.3195139668673335
0
>>> main(["soft-argmax", "memory://doc-cli", "--beta", "5", "--no-progress"])
soft-argmax of memory://doc-cli: shape (4, 5) int32, axis None, beta 5.0
  coords  (1.50501, 2.00004)
0
"""
from __future__ import annotations

import contextlib
import os
import sys

from ..errors import StoreError
from . import commands
from .output import label
from .parser import build_parser, join_negative_axes, parse_size

__all__ = ["main", "parse_size"]


def main(argv=None) -> int:
    """Run the ``ooc`` command line; returns the exit status (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(join_negative_axes(sys.argv[1:] if argv is None else
                                                    [str(a) for a in argv]))
    except SystemExit as e:  # argparse: 2 for usage errors, 0 for --help
        return int(e.code) if isinstance(e.code, int) else 2
    debug = getattr(args, "debug", False)
    try:
        return int(getattr(commands, args.command_spec.run)(args) or 0)
    except commands.UsageError as e:
        if debug:
            raise
        print(f"ooc {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ooc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `ooc info ... | head`
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 1
    except Exception as e:
        if debug:
            raise
        print(f"ooc {args.command}: error: {_one_line(e, args)}", file=sys.stderr)
        return 1


def _one_line(e, args):
    msg = " ".join(str(e).split()) or type(e).__name__
    store = getattr(args, "store", None)
    if isinstance(e, StoreError) or store is None or store in msg:
        return msg
    where = label(store, getattr(args, "path", None))
    return f"{where}: {type(e).__name__}: {msg}" if not isinstance(e, (ValueError, OSError)) \
        else f"{where}: {msg}"


def console_main():  # pragma: no cover - thin wrapper
    sys.exit(main())

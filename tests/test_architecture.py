"""The package's layering: no import cycle, no private name used across modules, a graph builder
that knows no reduction by name."""
import ast
import pathlib

import pytest

import ooc

PACKAGE = pathlib.Path(ooc.__file__).parent


def _modules():
    """module name -> parsed source, for every module of ooc."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = (ast.parse(path.read_text()), path.name == "__init__.py")
    return out


MODULES = _modules()


def _resolve(module, is_package, node):
    """Absolute name of the module an ImportFrom names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module):
    """(imported ooc module, names taken from it) for every import in ``module``, at any depth
    (function-level imports included)."""
    tree, is_package = MODULES[module]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ooc":
                    found.append((alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            if target.split(".")[0] != "ooc":
                continue
            names = [a.name for a in node.names]
            # ``from . import api``: the names may be modules themselves
            submodules = [n for n in names if f"{target}.{n}" in MODULES]
            for n in submodules:
                found.append((f"{target}.{n}", []))
            found.append((target, [n for n in names if n not in submodules]))
    return found


def _graph():
    """module -> set of ooc modules it imports (a package import counts as its __init__)."""
    return {m: {t for t, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}


def test_no_import_cycle():
    graph = _graph()
    # an import of a package's submodule runs the package's __init__ first; leave out the
    # edges from ``ooc`` (the top-level __init__ imports the public modules, nobody imports it)
    graph["ooc"] = set()
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t, stack + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_no_private_name_crosses_modules():
    offenders = []
    for m in MODULES:
        for target, names in _imports(m):
            if target == m:
                continue
            offenders += [f"{m}: from {target} import {n}" for n in names
                          if n.startswith("_") and not n.startswith("__")]
            if any(part.startswith("_") and not part.startswith("__")
                   for part in target.split(".")):
                offenders.append(f"{m}: imports the private module {target}")
        tree, _ = MODULES[m]
        imported_as = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _resolve(m, MODULES[m][1], node).startswith("ooc"):
                for a in node.names:
                    imported_as[a.asname or a.name] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in imported_as and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                offenders.append(f"{m}: {node.value.id}.{node.attr}")
    assert not offenders, offenders


def test_graph_builder_imports_nothing_from_ooc_and_names_no_reduction():
    assert _graph()["ooc.graph"] == set()
    from ooc.reductions import REDUCTIONS
    source = (PACKAGE / "graph.py").read_text()
    named = [n for n in REDUCTIONS if f'"{n}"' in source or f"'{n}'" in source]
    assert not named


def test_every_public_reduction_is_a_record():
    from ooc.reductions import REDUCTIONS
    for name in ("argmax", "argmin", "nanargmax", "nanargmin", "nanargmax-or-missing",
                 "nanargmin-or-missing", "logsumexp", "softmax", "soft-argmax", "top-k"):
        assert name in REDUCTIONS


def test_the_checks_above_can_fail():
    """The cycle and private-name checks find a planted cycle and a planted private import."""
    planted = {
        "ooc.a": (ast.parse("from . import b\n"), False),
        "ooc.b": (ast.parse("def f():\n    from .a import _secret\n"), False),
    }
    globals_ = globals()
    saved = globals_["MODULES"]
    globals_["MODULES"] = {**saved, **planted}
    try:
        with pytest.raises(pytest.fail.Exception, match="import cycle"):
            test_no_import_cycle()
        with pytest.raises(AssertionError, match="_secret"):
            test_no_private_name_crosses_modules()
    finally:
        globals_["MODULES"] = saved

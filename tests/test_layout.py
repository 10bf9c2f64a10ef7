"""Project rules that are cheap to check: the dependency direction, no import cycle, small modules, and
docs that list every setting.

Imports are read with ``ast``. A module-level import is a dependency; an import inside a function is a
lazy one (heavy or optional code loaded when a command needs it). ``if TYPE_CHECKING:`` imports are
annotations only and are not dependencies.
"""

import ast
from collections import defaultdict
from pathlib import Path

from kbsuggest.config import Settings

from conftest import REPO

PACKAGES = ("kbsuggest", "indexing", "evaluation", "gaps", "tickets", "learning")
OFFLINE = ("indexing", "evaluation", "gaps", "tickets", "learning")
# The core's layers, lowest first: a module-level import may only go to its own layer or a lower one.
# ``kbsuggest.cli`` is the composition root: the only place that may load offline packages (lazily).
LAYERS = [
    ("kbsuggest", "kbsuggest.errors", "kbsuggest.domain", "kbsuggest.db", "kbsuggest.text", "kbsuggest.sources"),
    ("kbsuggest.config",),
    ("kbsuggest.embed",),
    ("kbsuggest.index",),
    ("kbsuggest.rank",),
    ("kbsuggest.store",),
    ("kbsuggest.events",),
    ("kbsuggest.kbs",),
    ("kbsuggest.http",),
    ("kbsuggest.cli",),
]
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        root = REPO / package
        if root.is_dir():
            found.update({module_name(p): p for p in root.rglob("*.py")})
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path, name: str) -> tuple[set[str], set[str]]:
    """(module-level imports, imports inside functions) of one module, as absolute module names."""
    top: set[str] = set()
    lazy: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            target = lazy if in_function else top
            if isinstance(child, ast.Import):
                target.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] + [base]).strip(".")
                target.add(base)
                target.update(f"{base}.{a.name}" for a in child.names)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(), str(path)), False)
    return top, lazy


def ours(names: set[str], known: dict[str, Path]) -> set[str]:
    return {n for n in names if n in known}


def layer(name: str) -> int:
    best = (-1, -1)
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                best = max(best, (len(prefix), level))
    return best[1]


def test_core_never_imports_offline_packages_at_module_level():
    known = modules()
    offenders = []
    for name, path in known.items():
        if not name.startswith("kbsuggest"):
            continue
        top, lazy = imports(path, name)
        offenders += [(name, i) for i in top if i.split(".")[0] in OFFLINE]
        if not name.startswith("kbsuggest.cli"):
            offenders += [(name, i) for i in lazy if i.split(".")[0] in OFFLINE]
    assert sorted(offenders) == []


def test_core_imports_only_go_down_the_layers():
    known = modules()
    upward = []
    for name, path in known.items():
        if not name.startswith("kbsuggest"):
            continue
        top, _ = imports(path, name)
        for target in ours(top, known):
            if target.startswith("kbsuggest") and layer(target) > layer(name):
                upward.append((name, target))
    assert sorted(upward) == []


def test_no_import_cycle():
    known = modules()
    graph = defaultdict(set)
    for name, path in known.items():
        top, _ = imports(path, name)
        for target in ours(top, known):
            if target != name and not name.startswith(target + "."):  # a package's __init__ is loaded first anyway
                graph[name].add(target)
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(known):
        if node not in state:
            walk(node)
    assert cycles == []


def test_no_module_over_300_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_core_module_is_in_a_layer():
    assert [name for name in modules() if name.startswith("kbsuggest") and layer(name) < 0] == []


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`KBSUGGEST_{name.upper()}`" not in readme]
    assert missing == []

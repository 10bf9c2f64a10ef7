"""Project rules that are cheap to check: import direction, docs that list every setting."""

import ast
from pathlib import Path

from kbsuggest.config import Settings

from conftest import REPO


def imported_modules(package: Path):
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                yield path, [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                yield path, [node.module]


def test_core_never_imports_offline_packages_except_the_cli():
    offenders = [
        (path.name, name) for path, names in imported_modules(REPO / "kbsuggest") for name in names
        if name.split(".")[0] in ("indexing", "evaluation") and path.name != "cli.py"
    ]
    assert offenders == []


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`KBSUGGEST_{name.upper()}`" not in readme]
    assert missing == []

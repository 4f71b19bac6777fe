"""The size rules the code keeps (issue 13): no module in `bot/` or `escalation/` over 400 lines
and no function over 60. Migrations are left out: a revision is a frozen record of a schema, and
the first one creates every table in one `upgrade`."""

from __future__ import annotations

import ast
from pathlib import Path

import bot
import escalation

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
PACKAGES = (Path(bot.__file__).parent, Path(escalation.__file__).parent)


def _modules() -> list[Path]:
    return [
        path
        for root in PACKAGES
        for path in sorted(root.rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
    ]


def _name(path: Path) -> str:
    root = next(root for root in PACKAGES if path.is_relative_to(root))
    return path.relative_to(root.parent).as_posix()


def test_the_modules_are_found() -> None:
    names = {_name(path) for path in _modules()}
    assert {"bot/app.py", "escalation/policy.py"} <= names


def test_no_module_is_over_400_lines() -> None:
    long = {
        _name(path): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{_name(path)}:{node.lineno} {node.name}"] = lines
    assert long == {}

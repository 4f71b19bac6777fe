"""CONTRIBUTING.md's table of the README's promises names the tests that prove each one: every
test it names exists, so a renamed or deleted test cannot leave a promise unproved in silence."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE_START = "## The README's promises and the tests that prove them"


def _named_tests() -> list[tuple[str, str]]:
    """(file, test) for each `file.py::test` and each `::test` after it, in the table."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split(TABLE_START, 1)[1].split("\n## ", 1)[0]
    named: list[tuple[str, str]] = []
    for line in section.splitlines():
        if not line.startswith("| "):
            continue
        current = ""
        for token in line.split("`")[1::2]:  # the text between backquotes
            path, sep, test = token.partition("::")
            if path.endswith(".py"):
                current = path
            if sep and current and test.isidentifier():
                named.append((current, test))
    return named


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_the_table_names_tests() -> None:
    assert len(_named_tests()) > 40


def test_every_test_the_promises_table_names_exists() -> None:
    missing = [
        f"{file}::{test}"
        for file, test in _named_tests()
        if not (ROOT / "tests" / file).is_file() or test not in _tests_in(ROOT / "tests" / file)
    ]
    assert missing == []

"""Prompt templates from `prompts/`, rendered with Jinja2 and StrictUndefined."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("prompts", ""),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # prompts are plain text for a model, not HTML
    )


def render(name: str, **context: Any) -> str:
    """Render `prompts/<name>`; a missing variable raises instead of vanishing."""
    return _environment().get_template(name).render(**context)

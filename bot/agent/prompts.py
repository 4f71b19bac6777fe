"""Prompt templates from `prompts/`, rendered with Jinja2 and StrictUndefined.

A system prompt is rendered only from settings and our own codes, never from what a customer,
a tool or an article wrote: such text travels in the conversation, through the `data` filter.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined

if TYPE_CHECKING:
    from bot.config import Settings

# JSON escapes for the characters that could open or close a tag around a data block.
_TAG_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def as_data(value: Any) -> str:
    """`value` as JSON on one line, with `<`, `>` and `&` written as JSON escapes.

    JSON quoting keeps each text inside its own string (a quote or a line break in it is
    escaped), and with no literal `<` or `>` left, nothing in it can close (or open) the tag
    that delimits the block. It decodes back to exactly the original text.
    """
    return json.dumps(value, ensure_ascii=False, default=str).translate(_TAG_ESCAPES)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("prompts", ""),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # prompts are plain text for a model, not HTML
    )
    env.filters["data"] = as_data
    return env


def render(name: str, **context: Any) -> str:
    """Render `prompts/<name>`; a missing variable raises instead of vanishing."""
    return _environment().get_template(name).render(**context)


def canary_for(settings: Settings) -> str:
    """A marker in the system prompt that must never reach a customer; stable per install."""
    secret = settings.slack_signing_secret.get_secret_value()
    seed = f"{settings.company_name}|{secret}|supportbot-canary"
    return "cnry-" + hashlib.sha256(seed.encode()).hexdigest()[:16]

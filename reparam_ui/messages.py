"""Messages to the visitor: every alert the pages show goes through here (`guarded` shows a core
error as one).

Text that came from a visitor (URL values, a typed expression, a parser message quoting it) is shown
as a Markdown code span: Streamlit renders alert bodies as Markdown and turns URLs into links even
when their characters are escaped, but it shows a code span as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

LITERAL_MAX = 60  # characters of a visitor's value quoted in a message; the rest is counted
DETAIL_MAX = 300  # characters of an error message from the core
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def literal(value: Any, limit: int = LITERAL_MAX, quote: bool = True) -> str:
    """`value` as a Markdown code span: quoted (unless `quote` is off), control characters
    escaped, cut to `limit` characters with the full length said; never Markdown, HTML, LaTeX
    or a link."""
    text = str(value)
    more = f" ({len(text):,} characters)" if len(text) > limit else ""
    text = text[:limit] + ("…" if more else "")
    text = repr(text) if quote else _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}{more}"


def error_text(exc: BaseException) -> str:
    """A core ValueError as a message: its text may quote the visitor's input, so it is a literal."""
    return "Invalid input — " + literal(exc, limit=DETAIL_MAX, quote=False)


def url_warning(key: str, reason: str, raw: str, default: Any) -> str:
    """An ignored URL value: the parameter's name and what it must be (both the app's own text),
    the visitor's value as a literal, and the default used instead."""
    return (
        f"URL parameter `{key}` ignored: {reason}; got {literal(raw)}. "
        f"Using the default, {literal(default, quote=False)}."
    )


def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """Call into reparam_core; a ValueError becomes an `st.error` and None, never a traceback."""
    result, error = attempt(fn, *args, **kwargs)
    if error is not None:
        st.error(error)
    return result


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any | None, str | None]:
    """Like `guarded`, but the message is returned (to be shown later), not shown now."""
    try:
        return fn(*args, **kwargs), None
    except ValueError as exc:
        return None, error_text(exc)

"""URL-backed settings.

Pages keep their settings in `st.session_state` (per visitor) under widget keys; `Param` specs
seed those keys from `st.query_params` on first load and `sync_query` writes them back, so a URL
restores a view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from reparam_ui.messages import url_warning


@dataclass(frozen=True)
class Param:
    """One URL-backed setting: its default, and the range or options a URL value must respect."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    options: Sequence[Any] | None = None

    def parse(self, raw: str) -> Any:
        """Parse a query-string value; raise ValueError saying what is acceptable. The message
        never quotes `raw` (it is the visitor's text: `messages.url_warning` shows it)."""
        kind = type(self.default)
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if kind in (int, float):
            try:
                number = float(raw)
            except ValueError:
                raise ValueError("expected a number") from None
            if not math.isfinite(number):
                raise ValueError("expected a finite number")
            if kind is int and not number.is_integer():
                raise ValueError("expected a whole number")
            value: Any = int(number) if kind is int else number
        else:
            value = raw
        if self.options is not None and value not in self.options:
            raise ValueError(f"expected one of {', '.join(map(str, self.options))}")
        if self.lo is not None and value < self.lo:
            raise ValueError(f"must be ≥ {self.lo:g}")
        if self.hi is not None and value > self.hi:
            raise ValueError(f"must be ≤ {self.hi:g}")
        return value


def url_value(key: str, spec: Param) -> Any:
    """The URL's value for `key` if it is valid, else the default; an invalid value gets a
    visible warning naming the parameter."""
    raw = st.query_params.get(key)
    if raw is None:
        return spec.default
    try:
        return spec.parse(raw)
    except ValueError as exc:
        st.warning(url_warning(key, str(exc), raw, spec.default))
        return spec.default


def init_from_query(params: dict[str, Param]) -> None:
    """Seed `st.session_state[key]` for each param not yet set, with its `url_value`."""
    for key, spec in params.items():
        if key not in st.session_state:
            st.session_state[key] = url_value(key, spec)


def warn_invalid_query(params: dict[str, Param]) -> None:
    """For widgets Streamlit binds to the URL itself (`bind="query-params"`), which drops an
    invalid value silently: the same visible warning as `init_from_query` gives."""
    for key, spec in params.items():
        url_value(key, spec)


def sync_query(params: dict[str, Param]) -> None:
    """Write the current values of `params` back to the URL so it can be shared."""
    wanted = {key: _fmt(st.session_state.get(key, spec.default)) for key, spec in params.items()}
    if {k: st.query_params.get(k) for k in wanted} != wanted:
        st.query_params.from_dict(wanted)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def sync_query_keys(params: dict[str, Param]) -> None:
    """Like `sync_query`, but only sets these keys and leaves every other URL parameter alone
    (`sync_query` rewrites the whole query string), so two views can share one page's URL."""
    for key, spec in params.items():
        value = _fmt(st.session_state.get(key, spec.default))
        if st.query_params.get(key) != value:
            st.query_params[key] = value

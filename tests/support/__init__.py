"""Test support, shared by the tests and the benches; test files import helpers only from here.

browser: `streamlit run` on a free port, Chromium through Playwright, page helpers and JS probes;
apps: AppTest of the whole app; fuzz: Hypothesis edits of every widget; charts: the figures a page
sent; hostile: hostile visitor text; exact: closed forms the tests compare against.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

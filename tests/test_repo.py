"""Repository contracts: the README's commands, CI, pins, and a pure core."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_has_exactly_two_setup_commands():
    cmds = readme_commands()
    assert cmds == [
        "pip install -r requirements.txt && streamlit run app.py",
        "pip install -r requirements-dev.txt && python -m pytest",
    ]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_runtime_packages_are_pinned():
    reqs = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    names = {r.split("==")[0] for r in reqs}
    assert {"streamlit", "numpy", "plotly", "torch"} <= names
    assert all("==" in r for r in reqs), reqs
    assert "torch==2.13.0" in reqs


def test_core_never_imports_streamlit():
    for path in (ROOT / "reparam_core").rglob("*.py"):
        src = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+streamlit", src, re.M), path


def test_no_eval_or_exec_in_app_code():
    files = [
        ROOT / "app.py",
        *(ROOT / "pages").glob("*.py"),
        *(ROOT / "reparam_core").rglob("*.py"),
    ]
    files += list((ROOT / "reparam_ui").rglob("*.py"))
    for path in files:
        src = path.read_text()
        assert not re.search(r"(?<![.\w])(eval|exec)\s*\(", src), path


def test_every_page_runs_inside_the_app_shell():
    """A deep link on a fresh server must go through app.py (see shell.ensure_app_shell)."""
    for path in (ROOT / "pages").glob("*.py"):
        assert re.search(r"^ensure_app_shell\(\)$", path.read_text(), re.M), path

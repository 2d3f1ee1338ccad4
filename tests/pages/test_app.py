"""AppTest smoke test: every page runs without an exception element."""

import pytest

from tests.support.apps import PAGE_FILES, app_test


@pytest.mark.parametrize("path", PAGE_FILES)
def test_page_runs_without_exception(path):
    at = app_test(path)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{path} rendered no title"


def test_home_teaches_the_corrected_trick():
    at = app_test()
    text = " ".join(m.value for m in at.markdown)
    assert "differentiable" in text
    latex = " ".join(x.value for x in at.latex)
    assert "e^{-y^2/2}" in latex  # the derivation is carried to the end

"""The accessibility audit the browser tests and `bench/run.py` share: axe-core's WCAG 2.0/2.1 A and
AA rules, serious and critical violations only, and the phone-width sideways-scroll check."""

from __future__ import annotations

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
SIDEWAYS_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


def serious_violations(page) -> list[str]:
    """One line per serious or critical violation: the rule, how many elements, the first one and
    axe's summary."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['nodes'][0]['target']} — "
        + v["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sideways_px(page) -> int:
    """How far the page scrolls sideways (≤ 0: not at all)."""
    return page.evaluate(SIDEWAYS_JS)

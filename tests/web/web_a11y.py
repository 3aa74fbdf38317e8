"""axe-core in the browser tests: the script (an npm package of contracts/, installed by
scripts/setup.sh), the viewports the pages are checked at, and the check itself.

A module of its own (not conftest.py) so that the tests can import its names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AXE_SCRIPT = (
    Path(__file__).resolve().parents[2] / "contracts" / "node_modules" / "axe-core" / "axe.min.js"
)
# The rules axe-core runs by default: WCAG 2.0, 2.1 and 2.2 A and AA, and its best practices.
AXE_RUN = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return {
    version: window.axe.version,
    violations: result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, tags: v.tags,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    })),
    passes: result.passes.length,
  };
}"""
VIEWPORTS = {
    1280: {"viewport": {"width": 1280, "height": 900}},
    390: {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
}


def axe_check(page: Any, artifacts: Path, name: str) -> dict[str, Any]:
    """Run axe-core on the page as it is now; write its findings to
    test-artifacts/web/axe/NAME.json and a screenshot to states/NAME.png; fail on any
    violation, naming the rule and the elements."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    report = page.evaluate(AXE_RUN)
    for folder in ("axe", "states"):
        (artifacts / folder).mkdir(exist_ok=True)
    (artifacts / "axe" / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    page.screenshot(path=str(artifacts / "states" / f"{name}.png"), full_page=True)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in report["violations"]
    ]
    assert not found, f"{name}: axe-core {report['version']} found: " + "; ".join(found)
    return report

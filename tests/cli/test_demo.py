"""`registry demo` (the README's main command) tells the whole story with the right outcomes."""

from __future__ import annotations

from registry.demo import run_demo


def test_demo_outcomes():
    lines: list[str] = []
    outcome = run_demo(lines.append, certificates=120)
    assert outcome.as_expected, outcome.outcomes
    assert outcome.issued == 120 + 200  # certificates and diplomas, before the correction
    text = "\n".join(lines)
    for word in ("[VALID]", "[TAMPERED]", "[SUPERSEDED]", "[UNTRUSTED]", "refused on chain"):
        assert word in text


def test_demo_command(cli):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "1,000 birth certificates" in result.output
    assert "every outcome as expected" in result.output

"""`registry demo` (the README's main command) tells the whole story with the right outcomes."""

from __future__ import annotations

from registry.demo import run_demo


def test_demo_outcomes():
    """The v2 story: every scene's verdict (EXPECTED), a receipt alone IN_FORCE, front-running
    gaining nothing, a thief unable to confirm its key and void once the compromise is marked,
    earlier records and the moved agency's new ones VALID."""
    lines: list[str] = []
    outcome = run_demo(lines.append, certificates=120)
    assert outcome.as_expected, outcome.outcomes
    assert outcome.thief_key_refused and outcome.forged_rejected and outcome.outsider_refused
    assert outcome.issued == 120 + 200  # certificates and diplomas, before the correction
    text = "\n".join(lines)
    for word in (
        "[VALID]",
        "[TAMPERED]",
        "[SUPERSEDED]",
        "[UNTRUSTED]",
        "[IN_FORCE]",
        "refused on chain",
        "a record to look up",
        "falls in that window and is void",
        "moves it to a new transaction account",
    ):
        assert word in text


def test_demo_command(cli):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "1,000 birth certificates" in result.output
    assert "every outcome as expected" in result.output

"""The authority's commands refuse bad input with one clear line (exit 2), before touching any
node or key file."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["agency", "compromise", "Civil Registry Office", "--since", "yesterday"], "--since"),
        (["keys", "rekey"], "registry init"),
    ],
)
def test_bad_authority_input_is_one_clear_line(cli, args, says) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output

"""Hypothesis strategies for structured records, shared by the tests in tests/record."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from registry.record import MAX_SAFE_INTEGER

# Keys mix ordinary text with the characters a JSON pointer must escape, and digits,
# which look like array indexes.
keys = st.one_of(
    st.text(alphabet="ab~/0 1é", max_size=4),
    st.text(max_size=6),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    # The number rule: every number, however written, lies within +-(2**53 - 1).
    st.floats(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    st.text(max_size=12),
)

values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=12,
)

records: st.SearchStrategy[dict[str, Any]] = st.dictionaries(keys, values, min_size=1, max_size=5)
"""Non-empty JSON objects with nested objects, arrays, empty containers and odd keys."""

"""Shared hypothesis strategies for the fuzz tests (tests/test_fuzz_*.py)."""

from __future__ import annotations

from hypothesis import strategies as st

ANY_CHAR = st.characters(blacklist_categories=())
"""Any code point, lone surrogates (Cs) and control characters included."""
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHAR, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(ANY_CHAR, max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
"""Any JSON value (NaN and Infinity included), nested a little."""

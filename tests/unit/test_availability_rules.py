"""Grid rules: name parsing with reasons, reserved patterns, variants."""
from __future__ import annotations

import pytest

from core.availability import is_reserved, parse_names, valid_pattern, variants
from core.errors import BusinessError


def test_names_are_normalized_folded_and_invalid_ones_keep_their_reason():
    wanted = parse_names([" Mike ", "mike", "Mi..ke", "carol+x", "<b>x</b>", "x" * 10_000], max_names=10)
    assert [w.name for w in wanted] == ["mike", None, None, None, None]
    assert [w.code for w in wanted[1:]] == ["local_part_double_dot", "local_part_plus",
                                           "local_part_bad_characters", "local_part_too_long"]
    assert len(wanted[-1].raw) == 80  # never echo 10,000 characters back


def test_limits_and_empty_requests():
    for names, code in [([], "names_empty"), (["  "], "names_empty"), (["a"] * 11, "names_too_many")]:
        with pytest.raises(BusinessError) as err:
            parse_names(names, max_names=10)
        assert err.value.code == code


def test_reserved_patterns():
    assert is_reserved("admin", ["admin*"]) and is_reserved("administrator", ["admin*"])
    assert not is_reserved("badmin", ["admin*"]) and is_reserved("root", ["root"])
    assert not is_reserved("rooted", ["root"])
    assert valid_pattern(" Admin* ") == "admin*"
    with pytest.raises(BusinessError):
        valid_pattern("*")


def test_variants_are_valid_distinct_names():
    assert variants("mike", "Garcia")[:3] == ["mike.g", "mikeg", "mike2"]
    assert variants("mike")[:2] == ["mike2", "mike3"]
    assert "x" * 64 not in variants("x" * 64)  # too long to extend: nothing invalid is offered

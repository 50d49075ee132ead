"""kb.safejson: the one JSON reader of the API, the webhooks and the importer."""

import pytest

from kb import safejson


def test_safejson_reads_ordinary_json_with_paired_surrogates_and_unicode():
    value = safejson.loads(b'{"t": "caf\\u00e9 \\ud83d\\ude00", "n": [1, 2.5, null]}')
    assert value == {"t": "café 😀", "n": [1, 2.5, None]}


def test_safejson_accepts_the_limits_themselves():
    deep = "[" * safejson.MAX_DEPTH + "]" * safejson.MAX_DEPTH
    assert safejson.loads(deep) is not None
    assert safejson.loads(str(safejson.INT_MAX)) == 2**63 - 1
    assert safejson.loads(str(safejson.INT_MIN)) == -(2**63)


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ('{"a": {"b": [0, "\\ud800"]}}', "a.b[1]", "lone surrogate \\ud800"),
        ('{"a": "x\\u0000"}', "a", "NUL character (position 2)"),
        ('{"a": {"k\\u0000": 1}}', "a", "the key"),
        ('{"id": 1180591620717411303424}', "id", "does not fit in a 64-bit"),
        ('{"id": 9223372036854775808}', "id", "does not fit in a 64-bit"),
        ('{"id": -9223372036854775809}', "id", "does not fit in a 64-bit"),
        ('{"n": [1, {"m": -1e309}]}', "n[1].m", "infinity"),
        ('{"x": 1e400}', "x", "infinity"),
        ('{"x": [NaN]}', "x[0]", "NaN is not a JSON number"),
        ('{"x": ' + "[" * 65 + "]" * 65 + "}", "x" + "[0]" * 63, "nested more"),
        ("[" * 5000 + "]" * 5000, "", "nested more than 64 levels"),
        ('{"a": }', "", "not valid JSON: Expecting value"),
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_safejson_refuses_what_cannot_be_stored_naming_the_field(
    text, field, says, as_bytes
):
    with pytest.raises(safejson.JsonRefused) as caught:
        safejson.loads(text.encode() if as_bytes else text)
    assert caught.value.field == field
    assert says in caught.value.message


def test_safejson_refuses_raw_surrogates_in_text():
    """A str (not bytes) can hold a surrogate without any escape."""
    with pytest.raises(safejson.JsonRefused) as caught:
        safejson.loads('{"a": ["ok", "x\ud800"]}')
    assert caught.value.field == "a[1]"


def test_safejson_says_where_a_syntax_error_is():
    with pytest.raises(safejson.JsonRefused) as caught:
        safejson.loads('{\n  "a": }')
    assert caught.value.sentence() == (
        "Not valid JSON: Expecting value (line 2, column 8)."
    )


def test_safejson_refuses_bytes_that_are_not_utf8():
    with pytest.raises(safejson.JsonRefused, match="not UTF-8 text \\(byte 8\\)"):
        safejson.loads(b'{"a": "\xff"}')

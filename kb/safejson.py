"""Read JSON that every part of Hindsight can store and show. Pure: no Django.

One reader for every way JSON comes in: the REST API's parser (``kb.parsers``),
the machine API and its webhooks (``findings.machine``) and the JSONL
importer (``postmortems.importer``). It refuses, naming the field:

- nesting deeper than ``MAX_DEPTH`` (Python's decoder and every recursive walk
  after it would otherwise fail with RecursionError, a 500);
- integers outside a signed 64-bit range (they overflow an id lookup or a bigint
  column) and numbers that are not finite (``1e400`` reads as infinity, which no
  JSON column accepts);
- strings, keys included, with a NUL character (PostgreSQL text and jsonb cannot
  hold one) or a lone UTF-16 surrogate such as ``"\\ud800"`` (it cannot be encoded
  as UTF-8, so once stored, every page and API answer that shows it fails).
"""

import json
import math
import re

MAX_DEPTH = 64
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
# More digits than any 64-bit integer has: kept as text, refused with its field
# (int() of thousands of digits is slow, and past 4,300 it raises without a field).
_MAX_INT_DIGITS = 19
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JsonRefused(ValueError):
    """JSON that is not read; ``field`` is its dotted path ("" for the document)."""

    def __init__(
        self, message: str, *, field: str = "", line: int = 0, column: int = 0
    ):
        self.message = message
        self.field = field
        # Where a syntax error is (1-based; 0 when the problem is a value).
        self.line = line
        self.column = column
        super().__init__(f"{field}: {message}" if field else message)

    def sentence(self) -> str:
        """The problem as an API error's detail: "Field "x": ..." or "Not ..."."""
        text = f'Field "{self.field}": {self.message}' if self.field else self.message
        if self.line:
            text = f"{text} (line {self.line}, column {self.column})"
        text = text[0].upper() + text[1:]
        return text if text.endswith(".") else f"{text}."


class _LongInteger(str):
    """An integer literal with too many digits, as written."""


class _NotANumber(str):
    """NaN, Infinity or -Infinity: Python reads them, JSON has no such numbers."""


def _parse_constant(name: str):
    return _NotANumber(name)


def text_problem(value: str) -> str:
    """Why ``value`` cannot be stored ("" when it can)."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return ""
    char = found.group()
    if char == "\x00":
        return (
            f"contains a NUL character (position {found.start() + 1}), which "
            "cannot be stored."
        )
    return (
        f"contains a lone surrogate \\u{ord(char):04x} (position "
        f"{found.start() + 1}), which is not a character and cannot be stored."
    )


# The escapes of a NUL or a surrogate (a str may hold the raw characters too).
_ESCAPES = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_CONTAINERS = (dict, list)


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """The JSON document in ``data``; raises JsonRefused saying what and where."""
    from_text = isinstance(data, str)
    if not from_text:
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonRefused(f"not UTF-8 text (byte {exc.start + 1})") from None
    # Cheap signs first (substring tests and C-speed scans), so that an ordinary
    # body costs little more than json.loads; check() then names the field.
    suspicious = (
        ("\\u" in data and _ESCAPES.search(data) is not None)
        or (from_text and _UNSTORABLE.search(data) is not None)
        or "NaN" in data
        or "Infinity" in data
    )
    too_long: list[str] = []

    def parse_int(text: str):
        if len(text) < _MAX_INT_DIGITS:
            return int(text)
        if len(text.lstrip("-")) <= _MAX_INT_DIGITS:
            number = int(text)
            if INT_MIN <= number <= INT_MAX:
                return number
        too_long.append(text)
        return _LongInteger(text)

    try:
        value = json.loads(data, parse_int=parse_int, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise JsonRefused(
            f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:
        raise JsonRefused(
            f"the JSON is nested more than {max_depth} levels deep"
        ) from None
    if suspicious or too_long or _deep_or_infinite(value, max_depth):
        check(value, max_depth=max_depth)
    return value


def _deep_or_infinite(value: object, max_depth: int) -> bool:
    """True when ``value`` nests deeper than ``max_depth`` or holds an infinite
    number. Level by level with comprehensions: no paths, so it is fast."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > max_depth:
            return True
        children = [
            child
            for item in level
            for child in (item.values() if type(item) is dict else item)
        ]
        if math.inf in children or -math.inf in children:
            return True
        level = [child for child in children if type(child) in _CONTAINERS]
        depth += 1
    return False


def check(value: object, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise JsonRefused for the first value in ``value`` that cannot be stored."""
    # Iterative, so that the check itself cannot run out of stack.
    stack: list[tuple[object, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise JsonRefused(
                    f"nested more than {max_depth} levels deep.", field=path
                )
            if isinstance(item, list):
                for index in range(len(item) - 1, -1, -1):
                    stack.append((item[index], f"{path}[{index}]", depth + 1))
                continue
            children = []
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else key
                problem = text_problem(key)
                if problem:
                    raise JsonRefused(
                        f"the key {_shown(key)} {problem}", field=path or "(root)"
                    )
                children.append((child, child_path, depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, _LongInteger):
            raise JsonRefused(
                f"the number {_shown_number(item)} does not fit in a 64-bit integer.",
                field=path,
            )
        elif isinstance(item, _NotANumber):
            raise JsonRefused(f"{item} is not a JSON number.", field=path)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise JsonRefused(f"the text {problem}", field=path)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX:
                raise JsonRefused(
                    f"the number {item} does not fit in a 64-bit integer.", field=path
                )
        elif isinstance(item, float) and not math.isfinite(item):
            raise JsonRefused(
                "the number is too large to store (it reads as infinity).",
                field=path,
            )


def _shown(key: str) -> str:
    return json.dumps(key[:40])


def _shown_number(text: str) -> str:
    return text if len(text) <= 30 else f"{text[:12]}…({len(text)} digits)"

"""GitHub Actions `${{ }}` expressions: literals, contexts, operators and the common functions.

Follows GitHub's rules: `||` and `&&` return an operand, `==` compares strings case-insensitively
and coerces mixed types to numbers, a missing property is null, and `if:` may omit `${{ }}`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
from pathlib import Path
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\].,*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def tokens(text: str) -> list[tuple[str, Any]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot parse expression at {text[position:]!r}"
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value[1:-1].replace("''", "'")
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        found.append((kind, value))
        position = match.end()
    return found


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def _number(value: Any) -> float:
    if value is None:
        return 0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0
        except ValueError:
            return float("nan")
    return float("nan")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right) or left is None or right is None:
        return left == right if not (left is None) ^ (right is None) else _number(left) == _number(right)
    return _number(left) == _number(right)


class Parser:
    def __init__(self, text: str, context: dict[str, Any]):
        self.items, self.position, self.context = tokens(text), 0, context

    def peek(self) -> tuple[str, Any] | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def take(self, value: str | None = None) -> tuple[str, Any]:
        item = self.peek()
        assert item is not None and (value is None or item[1] == value), f"expected {value!r}, got {item!r}"
        self.position += 1
        return item

    def parse(self) -> Any:
        value = self.disjunction()
        assert self.peek() is None, f"unexpected {self.peek()!r}"
        return value

    def disjunction(self) -> Any:
        value = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            value = value if value else right
        return value

    def conjunction(self) -> Any:
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            value = right if value else value
        return value

    def comparison(self) -> Any:
        left = self.unary()
        item = self.peek()
        if item and item[0] == "op" and item[1] in ("==", "!=", "<", ">", "<=", ">="):
            self.take()
            right = self.unary()
            if item[1] in ("==", "!="):
                return _equal(left, right) == (item[1] == "==")
            a, b = _number(left), _number(right)
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[item[1]]
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not self.unary()
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
                value = _get(value, key)
            else:
                key = self.disjunction()
                self.take("]")
                value = _get(value, key)
        return value

    def primary(self) -> Any:
        kind, value = self.take()
        if kind in ("string", "number"):
            return value
        if kind == "op" and value == "(":
            inner = self.disjunction()
            self.take(")")
            return inner
        assert kind == "name", f"unexpected {value!r}"
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if self.peek() == ("op", "("):
            self.take()
            args = []
            while self.peek() != ("op", ")"):
                args.append(self.disjunction())
                if self.peek() == ("op", ","):
                    self.take()
            self.take(")")
            return call(value, args, self.context)
        return self.context.get(value)


def _get(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        lowered = {str(k).lower(): v for k, v in value.items()}
        return lowered.get(str(key).lower())
    if isinstance(value, list) and isinstance(key, int | float) and 0 <= int(key) < len(value):
        return value[int(key)]
    return None


def call(name: str, args: list[Any], context: dict[str, Any]) -> Any:
    status = context.get("_status", "success")
    name = name.lower()
    if name == "success":
        return status == "success"
    if name == "failure":
        return status == "failure"
    if name == "always":
        return True
    if name == "cancelled":
        return False
    if name == "contains":
        haystack, needle = args
        if isinstance(haystack, list):
            return any(_equal(item, needle) for item in haystack)
        return to_string(needle).lower() in to_string(haystack).lower()
    if name == "startswith":
        return to_string(args[0]).lower().startswith(to_string(args[1]).lower())
    if name == "endswith":
        return to_string(args[0]).lower().endswith(to_string(args[1]).lower())
    if name == "format":
        return _format(to_string(args[0]), [to_string(arg) for arg in args[1:]])
    if name == "join":
        items = args[0] if isinstance(args[0], list) else [args[0]]
        return (to_string(args[1]) if len(args) > 1 else ",").join(to_string(i) for i in items)
    if name == "tojson":
        return json.dumps(args[0], indent=2)
    if name == "fromjson":
        return json.loads(to_string(args[0]))
    if name == "hashfiles":
        return hash_files(Path(context["github"]["workspace"]), *map(to_string, args))
    raise AssertionError(f"unknown function {name}()")


def _format(template: str, values: list[str]) -> str:
    """GitHub's format(): `{N}` is argument N, `{{` and `}}` are literal braces; anything else
    in braces is an error, as on GitHub."""
    out, index = [], 0
    while index < len(template):
        char = template[index]
        if template.startswith("{{", index) or template.startswith("}}", index):
            out.append(char)
            index += 2
        elif char == "{":
            end = template.find("}", index)
            number = template[index + 1 : end] if end > 0 else ""
            assert number.isdigit() and int(number) < len(values), f"format(): bad placeholder in {template!r}"
            out.append(values[int(number)])
            index = end + 1
        else:
            assert char != "}", f"format(): unmatched '}}' in {template!r}"
            out.append(char)
            index += 1
    return "".join(out)


def evaluate(expression: Any, context: dict[str, Any]) -> Any:
    """The value of an `if:` or a single `${{ }}` (both forms accepted)."""
    if not isinstance(expression, str):
        return expression
    text = expression.strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    return Parser(match.group(1) if match else text, context).parse()


def interpolate(value: Any, context: dict[str, Any]) -> Any:
    """Replace each `${{ }}` in a string; a string that is one expression keeps the value's type."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", value, re.S)
    if whole and "${{" not in whole.group(1):  # `${{ a }}-${{ b }}` is two expressions, not one
        return Parser(whole.group(1), context).parse()
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_string(Parser(m.group(1), context).parse()), value, flags=re.S)


def hash_files(workspace: Path, *patterns: str) -> str:
    digest, found = hashlib.sha256(), False
    for pattern in patterns:
        for path in sorted(glob.glob(str(workspace / pattern), recursive=True)):
            if Path(path).is_file():
                digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
                found = True
    return digest.hexdigest() if found else ""

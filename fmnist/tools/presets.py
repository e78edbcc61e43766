"""Copy a preset from params.yaml's `presets:` into `variants:`, keeping the file's comments.

Presets are recipes too long for the default CPU run (e.g. `champion_long` for GPUs). Once
copied, the normal `train@<name>` / `evaluate@<name>` stages train and compare it. The edit is a
ruamel.yaml round trip (the library DVC edits its own YAML with): every other byte stays.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

import yaml

from fmnist.core.config import load_params
from fmnist.core.errors import ConfigError
from fmnist.core.io import write_text


def _round_trip():
    from ruamel.yaml import YAML

    handler = YAML()
    handler.width, handler.preserve_quotes = 4096, True
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


def _last_scalar(node):
    """(mapping, key) of the last scalar in a nested mapping: where ruamel keeps the comments
    that follow the block."""
    key = list(node)[-1]
    while hasattr(node[key], "ca") and isinstance(node[key], dict) and node[key]:
        node = node[key]
        key = list(node)[-1]
    return node, key


def _move_trailing_comments(previous, added) -> None:
    """The comment lines after the old last variant introduce the next section: keep them after
    the new last variant. The old entry keeps its own end-of-line comment."""
    from ruamel.yaml.tokens import CommentToken

    old_map, old_key = _last_scalar(previous)
    slot = old_map.ca.items.get(old_key)
    if not slot or len(slot) < 3 or slot[2] is None:
        return
    token = slot[2]
    own, newline, following = token.value.partition("\n")
    if not following:
        return
    token.value = own + newline
    new_map, new_key = _last_scalar(added)
    new_slot = new_map.ca.items.setdefault(new_key, [None, None, None, None])
    if new_slot[2] is not None:
        new_slot[2].value = new_slot[2].value.rstrip("\n") + "\n" + following
    else:
        new_slot[2] = CommentToken("\n" + following, token.start_mark, None)


def add_preset(params_path: Path, name: str) -> str:
    """Insert presets.<name> as variants.<name>; returns the inserted YAML text."""
    params = load_params(params_path)  # validates the whole file first
    if name not in params.presets:
        known = sorted(params.presets) or "none"
        raise ConfigError(f"{params_path}: presets.{name}: no such preset; known: {known}")
    if name in params.variants:
        raise ConfigError(f"{params_path}: variants.{name}: already a variant")
    handler = _round_trip()
    old = params_path.read_text(encoding="utf-8")
    document = handler.load(old)
    variants = document["variants"]
    previous = variants[list(variants)[-1]] if variants else None
    variants[name] = copy.deepcopy(document["presets"][name])
    if isinstance(previous, dict) and previous:
        _move_trailing_comments(previous, variants[name])
    buffer = io.StringIO()
    handler.dump(document, buffer)
    new = buffer.getvalue()
    _check_text(new, params_path)
    write_text(params_path, new)
    return _inserted(old, new)


def _inserted(old: str, new: str) -> str:
    """The lines `new` has where `old` has none: the added entry, as written."""
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), len(before))
    tail = 0
    while tail < len(before) - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    return "".join(after[head : len(after) - tail])


def _check_text(text: str, params_path: Path) -> None:
    """Refuse to write a params file that would no longer validate."""
    from fmnist.core.config import parse_params

    try:
        parse_params(yaml.safe_load(text))
    except (ConfigError, yaml.YAMLError) as error:
        raise ConfigError(f"{params_path}: adding the preset would break the file: {error}") from None

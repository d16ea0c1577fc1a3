"""YAML files read as written: composed, never constructed.

Every scalar stays the text the analyst typed (`NO` stays "NO", `0123` stays "0123",
`1e6` stays "1e6") until a column's kind converts it; nothing is executed. Duplicate
keys, anchors and aliases (which could expand into a 'billion laughs') are errors with
their line, as is nesting deeper than any scenario or instance.yaml needs (which would
exhaust Python's stack). Errors quote at most a few characters of the file, never its
lines: a file given by mistake (or on purpose) is not echoed back.
"""
from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import MappingStartEvent, SequenceStartEvent, CollectionEndEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import InputError, Problem
from .source import read_bytes

MAX_DEPTH = 20  # mappings and lists inside each other; a scenario needs five
MAX_NODES = 20_000  # keys, values and items; a scenario of a thousand changes has fewer (YAML reads slowly)
MAX_YAML_BYTES = 1024 * 1024
NULL_TAG = "tag:yaml.org,2002:null"


class Map(dict):
    """A YAML mapping with the line of the mapping and of each key."""
    line: int = 0
    lines: dict


class Seq(list):
    """A YAML sequence with the line of the sequence and of each item."""
    line: int = 0
    lines: list


def _yaml() -> YAML:
    return YAML(typ="safe", pure=True)


def yaml_problem(e: YAMLError) -> str:
    """What a YAML error says, without the lines of the file that its text would quote."""
    problem = str(getattr(e, "problem", None) or getattr(e, "context", None) or type(e).__name__)
    return problem if len(problem) <= 120 else problem[:120] + "..."


def read_text(path: str | Path, file: str | None = None, limit: int = MAX_YAML_BYTES) -> str:
    """A YAML file's text (UTF-8, a BOM allowed), from a regular file of bounded size."""
    path = Path(path)
    file = file or path.name
    data = read_bytes(path, file, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(Problem(file, data.count(b"\n", 0, e.start) + 1, None, None,
                                 f"UTF-8 text (byte 0x{data[e.start]:02X} at position {e.start} is not)")) from None


def check_depth(text: str, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH (before anything recursive reads the text) and
    more than MAX_NODES values (which would take minutes to read)."""
    depth = 0
    try:
        for n, event in enumerate(_yaml().parse(io.StringIO(text))):
            if n > MAX_NODES:
                raise InputError(Problem(file, event.start_mark.line + 1, None, None,
                                         f"a YAML file of at most {MAX_NODES:,} keys and values"))
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(Problem(file, event.start_mark.line + 1, None, None,
                                             f"mappings and lists nested at most {MAX_DEPTH} deep"))
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(Problem(file, mark.line + 1 if mark else None, None, None,
                                 f"valid YAML: {yaml_problem(e)}")) from None


def compose(text: str, file: str):
    """The root node of a YAML text (None if empty); InputError with the line if not YAML."""
    check_depth(text, file)
    try:
        return _yaml().compose(io.StringIO(text))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(Problem(file, mark.line + 1 if mark else None, None, None,
                                 f"valid YAML: {yaml_problem(e)}")) from None


def plain(node, file: str, seen: set[int] | None = None):
    """Python value of a composed node: Map, Seq, text, or None for a null."""
    seen = set() if seen is None else seen
    if id(node) in seen:  # an alias: refused (also stops 'billion laughs' expansion)
        raise InputError(Problem(file, node.start_mark.line + 1, None, None,
                                 "plain values: YAML anchors and aliases (&, *) are not allowed"))
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        return None if str(node.tag) == NULL_TAG else node.value
    if isinstance(node, SequenceNode):
        out = Seq(plain(item, file, seen) for item in node.value)
        out.line, out.lines = node.start_mark.line + 1, [item.start_mark.line + 1 for item in node.value]
        return out
    out = Map()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = plain(key_node, file, seen)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise InputError(Problem(file, line, None, None, "a plain key (a name or a number)"))
        if key in out:
            raise InputError(Problem(file, line, key, key,
                                     f"each key once: duplicate key '{key}' (first on line {out.lines[key]})"))
        out[key], out.lines[key] = plain(value_node, file, seen), line
    return out


def read_mapping(path: str | Path, file: str | None, what: str):
    """A YAML file that must hold a mapping (`what` names its keys for the message), as
    plain values with lines; InputError for anything else."""
    path = Path(path)
    file = file or path.name
    root = compose(read_text(path, file), file)
    if root is None:
        raise InputError(Problem(file, 1, None, None, f"a mapping of keys ({what}); the file is empty"))
    if not isinstance(root, MappingNode):
        raise InputError(Problem(file, root.start_mark.line + 1, None, None, f"a mapping of keys ({what})"))
    return plain(root, file)

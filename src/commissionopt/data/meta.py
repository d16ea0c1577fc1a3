"""instance.yaml (or the workbook's `instance` sheet): read as written, then typed.

YAML is composed, not constructed (data.yamltext): every scalar stays the text the
analyst typed (`NO` stays "NO", `0123` stays "0123"), nothing is executed, and duplicate
keys are found with their line. Each known key is then typed by its kind in schema.META_KEYS;
a value that does not convert stays as text so that the validator can name it.
"""
from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML

from .instance import split_list
from .load import convert_value
from .schema import MAPPING_KEYS, META_KEYS

META_FILE = "instance.yaml"


def _yaml() -> YAML:
    return YAML(typ="safe", pure=True)


def read_meta_yaml(path: Path) -> dict:
    """Keys of instance.yaml with their values as written; InputError on bad YAML."""
    from .yamltext import read_mapping
    return drop_blank(read_mapping(path, path.name, "name, horizon_years, levels, ..."))


def drop_blank(raw: dict) -> dict:
    """Text without surrounding white space (a folded `>` block ends in a newline), and
    an empty value means the key is not given."""
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            value = drop_blank(value)
        elif isinstance(value, str):
            value = value.strip()
        elif isinstance(value, list):
            value = [v.strip() if isinstance(v, str) else v for v in value]
        if value not in ("", None):
            out[key] = value
    return out


def _typed(value: object, kind: str) -> object:
    if kind == "list":
        return split_list(value) if isinstance(value, str) else (
            ["" if v is None else str(v) for v in value] if isinstance(value, list) else value)
    if kind in ("number", "integer", "bool") and isinstance(value, str):
        typed, err = convert_value(value, kind)
        return value if err else typed
    return value


def type_meta(raw: dict) -> dict:
    """Each known key converted by its kind; anything else kept as given."""
    meta = {}
    for key, value in raw.items():
        if key in MAPPING_KEYS and isinstance(value, dict):
            meta[key] = {k: _typed(v, MAPPING_KEYS[key].get(k, "text")) for k, v in value.items()}
        else:
            meta[key] = _typed(value, META_KEYS.get(key, ("text",))[0])
    return meta


# What each key of a mapping means (schema.MAPPING_KEYS gives only the kinds).
MAPPING_DOCS = {
    "reserves.opening": "Usable reserves (£) at the start of year 1",
    "reserves.minimum": "Reserves (£) that must be kept at all times (at most opening)",
    "reserves.flexible_capital_receipts": "true if capital receipts from closed buildings may also fund transformation",
    "pace.max_growth": "Optional: most a service's units can grow in a year (share of last year's), where services.csv leaves max_growth empty",
    "pace.max_decline": "Optional: most a service's units can fall in a year (share of last year's), where services.csv leaves max_decline empty",
}


# The workbook's `instance` sheet holds one key a row; reserves.* are dotted keys.
def flat_keys() -> list[tuple[str, str, str]]:
    """(key, kind, meaning) of every key as it appears in the instance sheet."""
    rows = []
    for key, (kind, doc) in META_KEYS.items():
        if kind == "mapping":
            rows += [(f"{key}.{sub}", sub_kind, MAPPING_DOCS.get(f"{key}.{sub}", f"{key}: {sub}"))
                     for sub, sub_kind in MAPPING_KEYS[key].items()]
        else:
            rows.append((key, kind, doc + ("; ';'-separated in a workbook" if kind == "list" else "")))
    return rows


def nest(flat: dict) -> dict:
    """{'reserves.opening': x} -> {'reserves': {'opening': x}}."""
    out: dict = {}
    for key, value in flat.items():
        head, dot, tail = key.partition(".")
        if dot:
            out.setdefault(head, {})[tail] = value
        else:
            out[key] = value
    return out


def flatten(meta: dict) -> dict:
    """Inverse of `nest` (lists stay lists)."""
    out = {}
    for key, value in meta.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def meta_yaml_text(meta: dict) -> str:
    """instance.yaml text for typed meta, keys in the documented order."""
    order = list(META_KEYS) + [k for k in meta if k not in META_KEYS]
    ordered = {k: _tidy(meta[k]) for k in order if k in meta}
    yaml = _yaml()
    yaml.default_flow_style = None
    yaml.representer.sort_base_mapping_type_on_output = False
    out = io.StringIO()
    yaml.dump(ordered, out)
    return out.getvalue()


def _tidy(value: object) -> object:
    """Whole-number floats as integers (2000000 rather than 2000000.0); plain Python types."""
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return int(value)
    return value

"""The YAML rules of presets, ``-p`` values and the book's configuration: safe YAML that
reads 1e-3 as a number, refuses a repeated key, and refuses documents nested too deep or
expanded too large (an alias bomb) with one sentence naming where they came from."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import ConfigError


class _ParameterLoader(yaml.SafeLoader):
    """Safe YAML that reads 1e-3 as a number (YAML 1.2, not 1.1's string) and refuses a
    mapping that gives the same key twice."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
        if repeated:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {repeated[0]!r} is given twice", node.start_mark)
        return super().construct_mapping(node, deep=deep)


_ParameterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


MAX_YAML_DEPTH = 32  # nested lists and mappings of a preset or a -p value
MAX_YAML_NODES = 100_000  # values once every alias is expanded (an alias bomb has 10^9)


def read_yaml(text: str, origin: str):
    """`text` read as safe YAML (see `_ParameterLoader`); unreadable YAML, a tag that is not
    plain data, a repeated key, nesting deeper than MAX_YAML_DEPTH or more than
    MAX_YAML_NODES values once aliases are expanded raise ConfigError naming `origin`."""
    try:
        _check_depth(text, origin)
        loader = _ParameterLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_size(node, origin)
            return None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{origin} is not readable YAML ({problem}).") from None


def _check_depth(text: str, origin: str) -> None:
    """Refuse nesting deeper than MAX_YAML_DEPTH, from the parser's events (the composer
    that follows recurses once per level)."""
    depth = 0
    for event in yaml.parse(text, Loader=_ParameterLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise ConfigError(f"{origin} nests lists or mappings more than "
                                  f"{MAX_YAML_DEPTH} levels deep; a parameter needs a few.")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_size(root, origin: str) -> None:
    """Refuse a document of more than MAX_YAML_NODES values once its aliases are expanded
    (each node's expanded size is counted once, so an alias bomb is measured, not walked),
    or one that contains itself."""
    sizes: dict[int, int] = {}

    def size(node, path: frozenset) -> int:
        if id(node) in path:
            raise ConfigError(f"{origin} holds a YAML alias that contains itself.")
        if id(node) not in sizes:
            children = node.value if isinstance(node, yaml.SequenceNode) else \
                [n for pair in node.value for n in pair] \
                if isinstance(node, yaml.MappingNode) else []
            inside = path | {id(node)}
            sizes[id(node)] = 1 + sum(size(child, inside) for child in children)
            if sizes[id(node)] > MAX_YAML_NODES:
                raise ConfigError(f"{origin} expands to more than {MAX_YAML_NODES:,} values "
                                  "(YAML aliases repeated inside one another); a parameter "
                                  "needs a few.")
        return sizes[id(node)]

    size(root, frozenset())


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8.") from None
    except OSError as error:
        raise ConfigError(f"{path} cannot be read ({error.strerror or error}); a preset is "
                          "a YAML file.") from None

"""YAML with YAML 1.2 semantics and a line number for every value.

ruamel.yaml reads YAML 1.2 (`22:22` stays a string, `on` stays a string). Its round-trip loader
keeps lines but is pure Python and ~10x slower; composing the node graph with the C parser and
building plain values ourselves keeps both the lines and the speed (a 1,000-service compose file
loads in a fraction of a second). Merge keys (`<<`) and anchors are resolved here.

A repository's YAML is untrusted input. The C composer recurses once per nesting level on the C
stack (a traceback from about 1,000 levels, a crash of the whole process at 50,000), so the
events are walked first, without recursion, and a document nested deeper than `MAX_NESTING`
never reaches it. Aliases can make the built values deeper than the text (each anchor holding
the previous one): the builder counts depth too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from passmuster.errors import ParseError

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
# An alias bomb ("billion laughs") would expand without bound; real compose files are far smaller.
_MAX_VALUES = 2_000_000
# Compose files nest about ten levels, Kubernetes manifests twenty.
MAX_NESTING = 100


@dataclass(slots=True)
class YamlDoc:
    """A parsed document: plain dicts/lists/scalars, plus the line of every entry.

    `line(container, key)` gives the 1-based line of a mapping value (or its key when the value is
    a block) or of a sequence item; `start(container)` the line where a container begins.
    """

    path: str
    data: Any
    _lines: dict[int, dict[Any, int]] = field(default_factory=dict)
    _starts: dict[int, int] = field(default_factory=dict)

    def line(self, container: Any, key: Any) -> int | None:
        entries = self._lines.get(id(container))
        return entries.get(key) if entries else None

    def start(self, container: Any) -> int | None:
        return self._starts.get(id(container))


Transform = Callable[[str, int], str]


class _Yaml12Resolver(VersionedResolver):
    """Always YAML 1.2, looked up once: ruamel's own lookup costs two exceptions per scalar,
    half the load time of a large compose file. Compose files do not use `%YAML 1.1`."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)

    @property
    def versioned_resolver(self) -> Any:
        cached = self.__dict__.get("_passmuster_resolvers")
        if cached is None:
            cached = super().versioned_resolver
            self.__dict__["_passmuster_resolvers"] = cached
        return cached


def load_yaml(text: str, path: str, *, transform: Transform | None = None) -> YamlDoc:
    """Parse one YAML document; `transform(value, line)` rewrites every string value (not keys).

    Raises ParseError naming the file and line.
    """
    yaml = YAML(typ="safe", pure=False)
    yaml.Resolver = _Yaml12Resolver
    try:
        _check_nesting(yaml, text, path)
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ParseError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise ParseError(path, None, f"invalid YAML: {exc}") from None
    doc = YamlDoc(path, None)
    if node is None:
        return doc
    builder = _Builder(doc, transform)
    doc.data = builder.build(node)
    return doc


def _check_nesting(yaml: YAML, text: str, path: str) -> None:
    """ParseError when collections nest deeper than MAX_NESTING (checked without recursion)."""
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                raise ParseError(path, line, f"YAML nested deeper than {MAX_NESTING} levels")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


class _Builder:
    def __init__(self, doc: YamlDoc, transform: Transform | None) -> None:
        self.doc = doc
        self.transform = transform
        self.count = 0
        self.depth = 0

    def build(self, node: Node, *, is_key: bool = False) -> Any:
        self.count += 1
        if self.count > _MAX_VALUES:
            raise ParseError(self.doc.path, node.start_mark.line + 1, "YAML expands too far")
        if isinstance(node, ScalarNode):
            return self._scalar(node, is_key=is_key)
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise ParseError(
                    self.doc.path,
                    node.start_mark.line + 1,
                    f"YAML nested deeper than {MAX_NESTING} levels (through aliases)",
                )
            if isinstance(node, SequenceNode):
                return self._sequence(node)
            if isinstance(node, MappingNode):
                return self._mapping(node)
        finally:
            self.depth -= 1
        raise ParseError(self.doc.path, node.start_mark.line + 1, "unsupported YAML node")

    def _sequence(self, node: SequenceNode) -> list[Any]:
        items: list[Any] = []
        lines: dict[Any, int] = {}
        for index, child in enumerate(node.value):
            lines[index] = child.start_mark.line + 1
            items.append(self.build(child))
        self.doc._lines[id(items)] = lines
        self.doc._starts[id(items)] = node.start_mark.line + 1
        return items

    def _mapping(self, node: MappingNode) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        merged: list[tuple[dict[Any, Any], dict[Any, int]]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    built = self.build(source)
                    if not isinstance(built, dict):
                        raise ParseError(
                            self.doc.path, source.start_mark.line + 1, "'<<' must merge a mapping"
                        )
                    merged.append((built, self.doc._lines.get(id(built), {})))
                continue
            key = self.build(key_node, is_key=True)
            if isinstance(key, list | dict):
                raise ParseError(
                    self.doc.path, key_node.start_mark.line + 1, "mapping keys must be scalars"
                )
            value = self.build(value_node)
            if key in result:
                raise ParseError(
                    self.doc.path, key_node.start_mark.line + 1, f"duplicate key {key!r}"
                )
            result[key] = value
            block = isinstance(value_node, MappingNode | SequenceNode)
            lines[key] = (key_node if block else value_node).start_mark.line + 1
        # Explicit keys win over merged ones; earlier merge sources win over later ones.
        for source, source_lines in merged:
            for key, value in source.items():
                if key not in result:
                    result[key] = value
                    if key in source_lines:
                        lines[key] = source_lines[key]
        self.doc._lines[id(result)] = lines
        self.doc._starts[id(result)] = node.start_mark.line + 1
        return result

    def _scalar(self, node: ScalarNode, *, is_key: bool) -> Any:
        value: str = node.value
        tag = node.tag
        if tag == _STR or node.style in ("'", '"', "|", ">"):
            if self.transform is not None and not is_key:
                return self.transform(value, node.start_mark.line + 1)
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            return _int(value)
        if tag == _FLOAT:
            return _float(value)
        if self.transform is not None and not is_key:
            return self.transform(value, node.start_mark.line + 1)
        return value


def _int(text: str) -> int | str:
    cleaned = text.replace("_", "")
    try:
        if cleaned.lower().startswith(("0o", "+0o", "-0o")):
            return int(cleaned.replace("0o", "").replace("0O", ""), 8)
        return int(cleaned, 0) if cleaned.lower().startswith(("0x", "+0x", "-0x")) else int(cleaned)
    except ValueError:
        return text


def _float(text: str) -> float | str:
    lowered = text.lower().replace("_", "")
    if lowered in (".inf", "+.inf"):
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    try:
        return float(lowered)
    except ValueError:
        return text

"""YAML loading that remembers where every value was written, for errors that name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlLocator:
    """Maps a path of keys/indexes inside a YAML document to its 1-based line number."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, loc: tuple[str | int, ...]) -> int | None:
        node = self.root
        best = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == str(part):
                        child = v
                        best = k.start_mark.line + 1
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                child = node.value[part]
                best = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return best


class YamlSyntaxError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line = path, line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


# libyaml (PyYAML's C parser) when the wheel has it: ten times faster on a large district.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml_text(path: Path) -> str:
    """The file's text; a missing or non-UTF-8 file names the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise YamlSyntaxError(path, None, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(path, None, f"not UTF-8 text ({exc.reason})") from exc


def parse_yaml(path: Path, text: str) -> tuple[Any, YamlLocator]:
    """Parse YAML text once into nodes (for line numbers) and values; errors name the line."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(path, line, f"invalid YAML: {exc.problem or exc}") from exc
    finally:
        loader.dispose()
    return data, YamlLocator(node)


def load_yaml(path: Path) -> tuple[Any, YamlLocator]:
    """Parse a YAML file; syntax errors name the file and line."""
    return parse_yaml(path, read_yaml_text(path))

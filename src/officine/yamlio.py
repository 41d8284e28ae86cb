"""YAML reading.

Two loaders with two jobs:
- `load_yaml`: the package's own data (catalogue, messages, manifest), trusted and large:
  libyaml's C loader when present (ten times faster than pure Python).
- `read_yaml_file`: files people write or bring (answers, backup plan, contacts, incident
  script): size-bounded, regular files only, no anchors or aliases (a few hundred bytes of
  aliases expand to billions of values), bounded nesting, duplicate keys and impossible dates
  refused, every refusal in French with its line; the line of every value is kept so that a
  validation error can name it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.reader import ReaderError

from officine.errors import UserError
from officine.userfiles import decode_text, read_input

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_USER_YAML_BYTES = 2_000_000
MAX_DEPTH = 32


def load_yaml(text: str) -> Any:
    """Safe load of the package's own data: plain data only, never Python objects."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader (C or pure Python)


class _UserLoader(yaml.SafeLoader):
    """The pure-Python safe loader, made strict for files from people (see the module text)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(None, None, "alias", mark)
        if getattr(event, "anchor", None) is not None:
            raise ComposerError(None, None, "anchor", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, "depth", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConstructorError(None, None, "merge", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise ConstructorError(None, None, "unhashable", key_node.start_mark) from None
            if duplicate:
                raise ConstructorError(None, None, f"duplicate:{key}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError:
            raise ConstructorError(None, None, f"date:{node.value}", node.start_mark) from None

    def construct_yaml_int(self, node: Node) -> Any:
        try:
            return super().construct_yaml_int(node)  # type: ignore[arg-type]
        except ValueError:  # more digits than Python converts
            raise ConstructorError(None, None, "int", node.start_mark) from None


_UserLoader.add_constructor("tag:yaml.org,2002:timestamp", _UserLoader.construct_yaml_timestamp)
_UserLoader.add_constructor("tag:yaml.org,2002:int", _UserLoader.construct_yaml_int)

# PyYAML's problems (English) and ours, in French. Matched by the start of the problem text.
_PROBLEMS = (
    ("alias", "les renvois « *nom » ne sont pas acceptés : recopiez la valeur"),
    ("anchor", "les ancres « &nom » ne sont pas acceptées : recopiez la valeur"),
    ("merge", "les fusions « << » ne sont pas acceptées : recopiez les valeurs"),
    ("depth", f"imbrication trop profonde ({MAX_DEPTH} niveaux au plus)"),
    ("unhashable", "une clé doit être un simple texte"),
    ("int", "nombre trop grand"),
    ("mapping values are not allowed", "« : » inattendu (mettez entre guillemets un texte qui contient « : »)"),
    ("found character '\\t'", "tabulation interdite : indentez avec des espaces"),
    ("could not find expected ':'", "« : » attendu après le nom du champ"),
    ("found unexpected end of stream", "fin de fichier inattendue (guillemet ou crochet non refermé)"),
    ("found unknown escape character", "caractère d'échappement inconnu dans un texte entre guillemets"),
    ("could not determine a constructor", "étiquette « ! » non acceptée : écrivez une simple valeur"),
    ("expected <block end>", "indentation incohérente"),
    ("expected ',' or ']'", "crochet « [ » non refermé, ou virgule manquante"),
    ("expected ',' or '}'", "accolade « { » non refermée, ou virgule manquante"),
    ("expected a single document", "un seul document attendu (retirez les « --- » en trop)"),
    ("found a tab character", "tabulation interdite : indentez avec des espaces"),
    ("did not find expected key", "indentation incohérente ou « - » mal placé"),
    ("did not find expected", "structure incomplète (crochet, accolade ou tiret mal placé)"),
    ("found control characters", "caractère de contrôle interdit dans le fichier"),
    ("special characters are not allowed", "caractère de contrôle interdit dans le fichier"),
    ("found unacceptable character", "caractère de contrôle interdit dans le fichier"),
)


def _problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, ReaderError):
        code = exc.character
        return f"caractère interdit (code U+{code:04X})" if isinstance(code, int) else "texte illisible"
    problem = str(getattr(exc, "problem", "") or "")
    if problem.startswith("date:"):
        return f"date impossible « {problem.removeprefix('date:')} » (attendu AAAA-MM-JJ, un jour qui existe)"
    if problem.startswith("duplicate:"):
        return f"la clé « {problem.removeprefix('duplicate:')[:60]} » apparaît deux fois"
    for start, french in _PROBLEMS:
        if problem.startswith(start):
            return french
    return "syntaxe YAML incorrecte"


def _where(exc: yaml.YAMLError, text: str) -> str:
    if isinstance(exc, ReaderError):
        return f"ligne {text.count(chr(10), 0, exc.position) + 1} : "
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return ""
    return f"ligne {mark.line + 1}, colonne {mark.column + 1} : "


@dataclass
class YamlDocument:
    """A file's data and the line where each value starts (by path of keys and indexes)."""

    data: Any
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """The line of the deepest known part of `loc` (a pydantic error location)."""
        path = tuple(str(p) for p in loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _index_lines(node: Node | None) -> dict[tuple[str, ...], int]:
    lines: dict[tuple[str, ...], int] = {}
    stack: list[tuple[Node, tuple[str, ...]]] = [(node, ())] if node is not None else []
    while stack:
        current, path = stack.pop()
        lines[path] = current.start_mark.line + 1
        if isinstance(current, MappingNode):
            stack.extend((value, (*path, str(key.value))) for key, value in current.value)
        elif isinstance(current, SequenceNode):
            stack.extend((value, (*path, str(i))) for i, value in enumerate(current.value))
    return lines


def parse_user_yaml(text: str) -> YamlDocument:
    """Strict parse of a person's YAML text; raises yaml.YAMLError (see `read_yaml_file`)."""
    loader = _UserLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return YamlDocument(data, _index_lines(node))


NO_CHANGE = "Corrigez-le puis relancez ; rien n'a été modifié."


def read_yaml_file(path: Path, what: str, advice: str = NO_CHANGE) -> YamlDocument:
    """A YAML file a person wrote, or a French refusal naming the file, the line and the problem.

    `what` names the file for the person ("Le fichier de réponses")."""
    text = decode_text(read_input(path, MAX_USER_YAML_BYTES, what), path, what)
    try:
        return parse_user_yaml(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{what} {path} est illisible : {_where(exc, text)}{_problem(exc)}. {advice}") from exc

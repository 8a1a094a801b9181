"""Environment-variable documentation derived from the settings classes themselves.

Each component reads its configuration through one pydantic-settings class. Rendering
``--help`` text and docs/configuration.md from those classes (instead of writing the
tables by hand) keeps the documentation true: a test regenerates the page and fails
when it differs from the committed one.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    type: str
    default: str
    description: str


def _comment_docs(cls: type) -> dict[str, str]:
    """Map field name -> the ``#:`` / ``#`` comment lines just above its annotation."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if (
            not (isinstance(klass, type) and issubclass(klass, BaseSettings))
            or klass is BaseSettings
        ):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        lines = source.splitlines()
        tree = ast.parse(source)
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node in body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                comments: list[str] = []
                row = node.lineno - 2
                while row >= 0 and lines[row].strip().startswith("#"):
                    comments.insert(0, lines[row].strip().lstrip("#:").strip())
                    row -= 1
                if comments:
                    docs[node.target.id] = " ".join(comments)
    return docs


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("pydantic.types.", "")


def _default(info: Any) -> str:
    if info.is_required():
        return "(required)"
    value = info.get_default(call_default_factory=True)
    if value is None or value == "":
        return "(empty)"
    if hasattr(value, "get_secret_value"):
        return "(secret)"
    if isinstance(value, Path):
        return _portable(value)
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(getattr(value, "value", value))


def _portable(path: Path) -> str:
    """A default path inside the checkout, shown relative to it (the docs must not
    depend on where the repository was cloned)."""
    root = Path(__file__).resolve().parents[2]
    if not path.is_absolute():
        return str(path)
    try:
        return "<repo>/" + str(path.relative_to(root))
    except ValueError:
        return str(path)


def env_vars(settings_class: type[BaseSettings]) -> list[EnvVar]:
    """The environment variables a settings class reads, in declaration order."""
    prefix = str(settings_class.model_config.get("env_prefix") or "")
    comments = _comment_docs(settings_class)
    rows: list[EnvVar] = []
    for field_name, info in settings_class.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        name = (alias or f"{prefix}{field_name}").upper()
        description = info.description or comments.get(field_name, "")
        rows.append(EnvVar(name, _type_name(info.annotation), _default(info), description))
    return rows


def env_help(settings_class: type[BaseSettings]) -> str:
    """Text for a ``--help`` epilog: one line per variable, with its default."""
    lines = ["environment variables:"]
    for var in env_vars(settings_class):
        lines.append(f"  {var.name:<30} {var.description} [default: {var.default}]".rstrip())
    return "\n".join(lines) + "\n"


def markdown_table(settings_class: type[BaseSettings]) -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for var in env_vars(settings_class):
        meaning = var.description.replace("|", "\\|") or f"({var.type})"
        rows.append(f"| `{var.name}` | `{var.default}` | {meaning} |")
    return "\n".join(rows)

"""docs/configuration.md is generated from the settings classes; it must not drift."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_matches_the_settings_classes() -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_config_docs", ROOT / "scripts" / "gen_config_docs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render()
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == expected, "docs/configuration.md is stale: run scripts/gen_config_docs.py"


def test_every_listed_component_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for heading in ("## Region API", "## AMQP ingest worker", "## User-activity simulator"):
        assert heading in text

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0_common.settings_doc import env_help, env_vars, markdown_table


class _Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EX_")

    #: how many widgets
    widgets: int = 3
    name: str = Field("a|b", description="described inline")
    token: str


def test_env_vars_use_prefix_comments_descriptions_and_defaults() -> None:
    rows = {var.name: var for var in env_vars(_Example)}
    assert rows["EX_WIDGETS"].description == "how many widgets"
    assert rows["EX_WIDGETS"].default == "3"
    assert rows["EX_NAME"].description == "described inline"
    assert rows["EX_TOKEN"].default == "(required)"


def test_renderings_escape_and_list_every_variable() -> None:
    assert "described inline" in env_help(_Example)
    table = markdown_table(_Example)
    assert "`a|b`" in table and table.count("\n| `EX_") == 3


class _Paths(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EX_")

    inside: Path = Path(__file__).resolve().parents[3] / ".run"
    outside: Path = Path("/var/tmp/x")


def test_default_paths_inside_the_checkout_do_not_name_the_clone() -> None:
    rows = {var.name: var for var in env_vars(_Paths)}
    assert rows["EX_INSIDE"].default == "<repo>/.run"
    assert rows["EX_OUTSIDE"].default == "/var/tmp/x"

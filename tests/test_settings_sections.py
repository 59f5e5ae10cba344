"""The tables of passmuster.toml: every one an engine reads is accepted, any other is refused
with the file, the line and the name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from passmuster.errors import ConfigError
from passmuster.settings import SECTIONS, find_config, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_every_section_the_code_reads_is_a_known_one() -> None:
    read: set[str] = set()
    for source in (ROOT / "src" / "passmuster").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        read.update(re.findall(r"\.section\(\s*\"([a-z_]+)\"", text))
        read.update(re.findall(r"project\.data\.get\(\s*\"([a-z_]+)\"", text))
    assert read  # the pattern still finds the readers
    assert read <= set(SECTIONS)


def test_every_table_the_docs_show_in_a_configuration_is_a_known_one() -> None:
    shown: set[str] = set()
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for block in re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            shown.update(re.findall(r"^\[\[?(?:tool\.passmuster\.)?([a-z_]+)", block, re.M))
    assert shown
    assert shown <= set(SECTIONS)


def test_the_example_platforms_configuration_is_read(tmp_path: Path) -> None:
    config = load_config(ROOT / "examples" / "platform" / "passmuster.toml")
    assert set(config.data) <= set(SECTIONS)


def test_a_misspelt_table_names_file_line_and_the_tables_read(tmp_path: Path) -> None:
    path = tmp_path / "passmuster.toml"
    path.write_text("# how passmuster reads this platform\n[scan]\nignore = []\n\n[scna]\nx = 1\n")
    with pytest.raises(ConfigError) as raised:
        find_config(tmp_path)
    assert raised.value.message.startswith(f"{path}:5: [scna] is not a section passmuster reads")
    assert "[scan], [services]" in raised.value.message


def test_a_misspelt_key_at_the_top_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "passmuster.toml"
    path.write_text("\nsacn = 3\n")
    with pytest.raises(ConfigError, match=r"passmuster\.toml:2: \[sacn\] is not a section"):
        load_config(path)


def test_in_pyproject_the_table_is_named_under_tool_passmuster(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.passmuster.scan]\nignore = []\n\n'
        "[tool.passmuster.monitr]\ninterval = 5\n"
    )
    with pytest.raises(ConfigError) as raised:
        find_config(tmp_path)
    assert ":7: [tool.passmuster.monitr] is not a section" in raised.value.message
    assert raised.value.field == "tool.passmuster.monitr"

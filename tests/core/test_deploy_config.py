from __future__ import annotations

import pytest

from passmuster.core.deploy.config import DeployConfig, render
from passmuster.errors import ConfigError


def _check(data: dict[str, object]) -> None:
    DeployConfig.model_validate(data).check("passmuster.toml")


def test_a_shared_template_must_name_the_service() -> None:
    with pytest.raises(ConfigError) as caught:
        _check({"command": "docker compose up -d"})
    assert "[deploy.command]" in caught.value.message
    assert "{service}" in caught.value.message
    assert caught.value.message.startswith("passmuster.toml:")


def test_a_service_s_own_command_needs_no_placeholder() -> None:
    _check({"services": {"billing": {"command": "make -C services/billing up"}}})


def test_an_unknown_placeholder_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        _check({"command": "deploy {servce}"})
    assert "{servce}" in caught.value.message
    assert "{service}" in caught.value.message


def test_a_template_that_cannot_be_split_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        _check({"services": {"x": {"command": "sh -c 'unclosed"}}})
    assert "[deploy.services.x.command]" in caught.value.message


def test_the_command_runner_needs_a_command() -> None:
    with pytest.raises(ConfigError, match="needs a command"):
        _check({"runner": "command"})


def test_a_health_url_must_be_http_or_tcp() -> None:
    with pytest.raises(ConfigError, match="health"):
        _check({"services": {"x": {"health": "ftp://x"}}})
    _check({"services": {"x": {"health": "none"}, "y": {"health": "tcp://127.0.0.1:5432"}}})


def test_values_fill_words_without_ever_splitting_them() -> None:
    argv = render("run --name {service} --in {root}", {"service": "billing", "root": "/my dir"})
    assert argv == ["run", "--name", "billing", "--in", "/my dir"]


def test_the_failure_window_reads_durations() -> None:
    assert (
        DeployConfig.model_validate({"failure_window": "2h"}).failure_window.total_seconds() == 7200
    )
    with pytest.raises(ValueError):
        DeployConfig.model_validate({"failure_window": "soon"})

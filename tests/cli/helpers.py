"""What the CLI tests share: running the real `passmuster` command group in-process, and
printing as Rich would print to a pipe or a terminal."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from passmuster.cli import _output
from passmuster.cli.main import cli

Run = Callable[..., Result]


def run_cli(*args: str, code: int = 0, input: str | None = None) -> Result:
    """Run `passmuster ARGS` in-process; assert its exit code and that no traceback leaked."""
    result = CliRunner().invoke(cli, list(args), input=input)
    unexpected = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not unexpected, f"passmuster {' '.join(args)} raised {result.exception!r}"
    assert result.exit_code == code, (
        f"passmuster {' '.join(args)} exited {result.exit_code}, not {code}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.output
    return result


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def __init__(self, encoding: str | None = "utf-8") -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str | None:  # type: ignore[override]
        return self._encoding

    def isatty(self) -> bool:
        return False


# Every setting Rich reads to choose colour and width.
RICH_ENV = ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM", "COLORTERM")


def printed(
    monkeypatch: pytest.MonkeyPatch,
    print_it: Callable[[], None],
    *,
    tty: bool,
    env: dict[str, str],
    through_rich: bool,
    encoding: str | None = "utf-8",
) -> str:
    """What `print_it` writes to stdout, a terminal or a pipe, in the environment `env`; with
    `through_rich`, every line goes through Rich's console, as it did before the commands
    wrote text Rich prints as it is themselves."""
    with monkeypatch.context() as patch:
        for name in RICH_ENV:
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        out = Terminal() if tty else Pipe(encoding)
        patch.setattr("sys.stdout", out)
        if through_rich:
            patch.setattr(_output, "_plain_console_width", lambda: None)
        print_it()
        return out.getvalue()

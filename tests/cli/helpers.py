"""What the CLI tests share: running the real `passmuster` command group in-process."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import CliRunner, Result

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

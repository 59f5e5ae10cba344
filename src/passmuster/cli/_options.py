"""Options and arguments on plain click that look and behave like the Typer-declared commands.

The commands people and agents run most (see `cli/frequent.py`) are declared here instead of
through Typer: Typer converts every value with pydantic, and importing the two costs more than
the work of a typical `list` or `claim`. These classes reproduce what Typer shows and says, so a
user cannot tell which layer a command uses: the `<str>`-style types in `--help`, an `Arguments`
section, `{NUMBER}` and `[title]...` in the usage line, and the same error messages
("Input should be a valid integer ...", "No such option: --x (Possible options: ...)").
tests/cli/test_cli_frequent.py holds them to it.
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click


def _visible(text: str) -> str:
    """Control characters in a diagnostic shown as \\xNN, never sent to the terminal."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m[0]):02x}", text)


class Integer(click.ParamType[int]):
    """An integer as Typer (through pydantic) reads one: `5`, ` 5 `, `+5`, `5_000`, `5.0`."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        whole = re.fullmatch(r"([+-]?\d[\d_]*)(?:\.0*)?", text) if text.isascii() else None
        if whole is not None:
            try:
                return int(whole[1])
            except ValueError:  # misplaced underscores: "5__0"
                pass
        self.fail(
            "Input should be a valid integer, unable to parse string as an integer", param, ctx
        )


class BoundedInteger(click.IntRange):
    """An integer between `low` and `high` read as Typer reads one (`Integer`), its range shown in
    `--help` as click shows a range, and out-of-range values refused in pydantic's words."""

    name = "integer range"

    def __init__(self, low: int, high: int) -> None:
        super().__init__(min=low, max=high)
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = Integer().convert(value, param, ctx)
        if number < self.low:
            self.fail(f"Input should be greater than or equal to {self.low}", param, ctx)
        if number > self.high:
            self.fail(f"Input should be less than or equal to {self.high}", param, ctx)
        return number


class Parsed(click.ParamType[Any]):
    """A value read by `parse`, which raises click.BadParameter with the reason."""

    name = "text"

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


class Option(click.Option):
    """An option shown with its value's type (`--limit <int>`), as Typer shows it.

    `reference` is the type's name in docs/cli.md (TEXT, INTEGER, PATH), as generated for the
    Typer commands.
    """

    def __init__(
        self, *args: Any, type_label: str = "<str>", reference: str = "TEXT", **kwargs: Any
    ) -> None:
        kwargs.setdefault("show_default", True)
        kwargs.setdefault("default", None)  # not click's own "unset", which docs would show
        super().__init__(*args, **kwargs)
        self.type_label = type_label
        self.reference = reference

    def make_metavar(self, ctx: click.Context) -> str:
        return self.type_label


class Argument(click.Argument):
    """A positional argument listed under `Arguments:` in `--help`, as Typer lists them."""

    def __init__(
        self,
        *args: Any,
        help: str = "",
        type_label: str = "<str>",
        show_default: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.help = help
        self.type_label = type_label
        self.show_default = show_default

    def _shown_name(self) -> str:
        return self.metavar or self.name or ""

    def get_error_hint(self, ctx: click.Context | None) -> str:
        return f"'{self._shown_name()}'"

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        name = self._shown_name()
        name = f"{{{name}}}" if self.required else f"[{name}]"
        return [name + ("..." if self.nargs != 1 else "")]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str]:
        name = self._shown_name()
        if self.metavar is None and self.nargs != 1:
            name += "..."
        extra = []
        default = self.get_default(ctx, call=False)
        if self.show_default and default not in (None, (), []):
            extra.append(f"default: {default}")
        if self.required:
            extra.append("required")
        text = self.help or ""
        if extra:
            text = f"{text}  [{'; '.join(extra)}]" if text else f"[{'; '.join(extra)}]"
        return f"{name} {self.type_label}", text


class UsageError(click.UsageError):
    """A usage error shown as Typer shows one: its hint names the first help option (`-h`)."""

    def show(self, file: Any = None) -> None:
        ctx = self.ctx
        if ctx is None:
            super().show(file)
            return
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.\n"
        click.echo(f"{ctx.get_usage()}\n{hint}", file=file or sys.stderr, color=ctx.color)
        click.echo(f"Error: {self.format_message()}", file=file or sys.stderr, color=ctx.color)


class Command(click.Command):
    """A command whose help lists `Arguments:` before `Options:` and whose usage errors read as
    Typer's do.

    It runs with the cyclic garbage collector paused. These commands do one bounded piece of
    work and exit, and most objects they make are the modules, classes and SQLAlchemy constructs
    they import, which live until exit: the collector would only walk them again and again
    (about 4% of a typical command). Reference counting still frees everything else at once.
    """

    def invoke(self, ctx: click.Context) -> Any:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return super().invoke(ctx)
        finally:
            if collecting:
                gc.enable()

    def format_arguments(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [
            record
            for param in self.get_params(ctx)
            if param.param_type_name == "argument"
            and (record := param.get_help_record(ctx)) is not None
        ]
        if records:
            with formatter.section("Arguments"):
                formatter.write_dl(records)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return self._parse_args(ctx, args)
        except click.UsageError as exc:
            raise UsageError(exc.format_message(), exc.ctx) from None

    def _parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        allowed = ctx.allow_extra_args
        ctx.allow_extra_args = True
        try:
            rest = super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            message = f"No such option: {_visible(exc.option_name)}"
            if exc.possibilities:
                message += f" (Possible options: {', '.join(sorted(exc.possibilities))})"
            raise click.UsageError(message, ctx) from None
        finally:
            ctx.allow_extra_args = allowed
        if ctx.args and not allowed and not ctx.resilient_parsing:
            extra = " ".join(_visible(str(arg)) for arg in ctx.args)
            ctx.fail(f"Got unexpected extra argument(s) ({extra})")
        return rest


def text_option(*decls: str, help: str, multiple: bool = False, **kwargs: Any) -> Option:
    """A text option; `multiple` ones may be repeated and come as a tuple."""
    return Option(
        list(decls),
        help=help,
        multiple=multiple,
        type_label="<list[str]>" if multiple else "<str>",
        **kwargs,
    )


def integer_option(*decls: str, help: str, default: int) -> Option:
    return Option(
        list(decls), help=help, type=Integer(), default=default, type_label="<int>",
        reference="INTEGER",
    )  # fmt: skip


def flag(*decls: str, help: str, show_default: bool = True) -> Option:
    return Option(list(decls), help=help, is_flag=True, default=False, show_default=show_default)


def json_flag() -> Option:
    """`--json` on every command, worded as the Typer commands word it."""
    return flag(
        "as_json", "--json", help="Print JSON on stdout instead of text.", show_default=False
    )


def command(name: str, callback: Callable[..., Any], params: Sequence[click.Parameter]) -> Command:
    """A command named `name` running `callback`, whose docstring is its help."""
    return Command(name, callback=callback, params=list(params), help=callback.__doc__)

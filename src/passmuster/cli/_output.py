"""What every command shares: opening the desk, who is acting, and printing text or JSON.

Commands print human output through Rich (`console()`, `err_console()`) and machine output
through `emit_json`, which turns dataclasses, enums, datetimes and paths into plain JSON. Times
are stored in UTC and shown in the user's local time (`local_time`). User errors are raised as
`passmuster.errors.PassmusterError`; the command group turns them into one line on stderr and the
error's exit code.

Rich and the desk are imported inside the functions: importing this module must stay cheap
because every command imports it.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import sys
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click

from passmuster.errors import PassmusterError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from passmuster.usecases.desk import Desk


class BadInput(PassmusterError):
    """Input on the command line that cannot be used (exit 2)."""

    exit_code = 2
    status_code = 422


def __getattr__(name: str) -> Any:
    # `--json` on every Typer command: `def cmd(..., as_json: JsonOption = False)`. Built on first
    # use so that the commands declared without Typer (cli/frequent.py) never import it.
    if name == "JsonOption":
        import typer

        json_option = Annotated[
            bool,
            typer.Option(
                "--json", help="Print JSON on stdout instead of text.", show_default=False
            ),
        ]
        globals()["JsonOption"] = json_option
        return json_option
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- consoles -------------------------------------------------------------------------------


class _Stopped(Exception):
    """SIGTERM asked a long-running command to stop."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into a clean stop: the block unwinds, closing whatever it opened.

    Without this, SIGTERM ends Python at once and nothing is cleaned up: Uvicorn handles the
    signal itself but raises it again once the server is down, after its own handler is gone.
    A second SIGTERM during the clean-up is ignored so the clean-up finishes. Ctrl-C stays an
    interruption (exit 130); a SIGTERM stop exits normally.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except _Stopped:
        err_console().print("stopped (SIGTERM)")
    finally:
        signal.signal(signal.SIGTERM, previous)


def console() -> Console:
    """A Rich console on the current stdout (looked up per call so test runners can capture it)."""
    import os

    # Piped output is read by people too (`| less`); 80 columns would squeeze the tables.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120
    return _safe_console()(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def err_console() -> Console:
    return _safe_console()(file=sys.stderr, highlight=False, soft_wrap=True)


@functools.cache
def _safe_console() -> type[Console]:
    """A Rich Console that shows control characters in text visibly instead of sending them
    to the terminal (an escape sequence in an issue title could clear the screen or hide a
    link). Every string printed or put in a table passes through `render_str`; the markup our
    own messages add holds no control characters, so escaping there changes only the text."""
    from rich.console import Console
    from rich.text import Text

    from passmuster.core.visible import escape_controls

    class SafeConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Text:
            return super().render_str(escape_controls(text), **kwargs)

    return SafeConsole


def listing_table(*columns: str, right: Collection[str] = ()) -> Table:
    """A borderless table with these column headings (those in `right` aligned right): the
    one every listing command prints."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left")
    return table


def print_listing(table: Table, out: Console | None = None) -> None:
    """Print a listing's table, or, on a terminal too narrow for it, one block per row: the
    first cell on a line of its own, then `heading: value` for each other cell that holds
    something. Squeezed, a table cuts every value to a letter or two ("billi…", "202…"),
    which says nothing; the blocks keep every value whole."""
    from rich.padding import Padding
    from rich.text import Text

    out = out or console()
    if _table_fits(out, table) or not table.columns:
        out.print(table)
        return

    def plain(cell: Any) -> Text:
        if isinstance(cell, Text):
            return cell
        return out.render_str(cell) if isinstance(cell, str) else Text(str(cell))

    if table.title:
        out.print(plain(table.title), style="bold")
    headings = [plain(column.header).plain.strip() for column in table.columns]
    cells = [list(column.cells) for column in table.columns]
    for row in range(table.row_count):
        values = [plain(column[row]) if row < len(column) else Text() for column in cells]
        first = values[0].copy()
        first.stylize("bold")
        out.print(first)
        for heading, value in zip(headings[1:], values[1:], strict=True):
            if value.plain.strip() not in ("", "-"):  # a dash in a table says "none"
                line = Text.assemble(f"{heading.lower() or '-'}: ", value)
                out.print(Padding(line, (0, 0, 0, 2), expand=False))


def _table_fits(out: Console, table: Table) -> bool:
    """Whether `table` fits `out` without cutting a value: every column that does not wrap at
    its widest cell, every column that wraps at its longest word (a folding one at none) and at
    least 16 characters (narrower, a title takes a line per word), plus the space between and
    around columns."""
    from rich.measure import Measurement

    options = out.options.update(max_width=100_000)
    needed = 0
    for column in table.columns:
        measured = [Measurement.get(out, options, column.header)]
        measured += [Measurement.get(out, options, cell) for cell in column.cells]
        widest = min(max(m.maximum for m in measured), column.max_width or 100_000)
        if column.no_wrap:
            needed += widest
        elif column.overflow == "fold":  # a long word folds onto the next line, whole
            needed += min(widest, 16)
        else:
            needed += max(max(m.minimum for m in measured), min(widest, 16))
    left, right = table.padding[3], table.padding[1]
    needed += (left + right) * len(table.columns)
    if not table.pad_edge:
        needed -= left + right
    if table.box is not None and table.show_edge:
        needed += 2
    if table.box is not None:
        needed += len(table.columns) - 1
    return needed <= out.width


def report_table(title: str) -> Table:
    """A titled, borderless table with dim headers: every section of `stats` is one."""
    from rich.table import Table

    return Table(
        title=title, title_justify="left", box=None, header_style="bold dim", pad_edge=False
    )


def say(message: str) -> None:
    """One line of Rich-markup text on stdout."""
    console().print(message)


def say_plain(plain: str, markup: Callable[[], str], *, soft_wrap: bool = False) -> None:
    """Print what `console().print(markup(), soft_wrap=soft_wrap)` prints, `plain` being that
    markup's text without its tags.

    When Rich would write `plain` unchanged but for where it breaks its lines (see
    `_printed_lines`), the lines are written directly, without importing Rich: the one-line
    reports of `new` and `claim` are most of what agents read from them, and Rich's console
    took longer to load than the filing. Everything else goes through Rich as before.
    """
    width = _plain_console_width()
    lines = None if width is None else _printed_lines(plain, None if soft_wrap else width)
    if lines is not None:
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
        return
    console().print(markup(), soft_wrap=soft_wrap)


def _plain_console_width() -> int | None:
    """The width `console()` wraps at when it prints no terminal codes (stdout is not a terminal
    and nothing forces one), else None. Rich reads the environment the same way; any setting
    this does not read as Rich would (COLUMNS that is not a number, FORCE_COLOR or TTY_COMPATIBLE
    set at all, Windows' console, Jupyter) leaves the printing to Rich."""
    import builtins
    import os

    if sys.platform == "win32" or "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return None
    if hasattr(builtins, "get_ipython"):  # Rich colours a Jupyter notebook's output
        return None
    stdout = sys.stdout
    try:
        if stdout is None or stdout.isatty():
            return None
    except ValueError:  # closed
        return None
    columns = os.environ.get("COLUMNS")
    if not columns:
        return 120  # the width `console()` sets for piped output
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def _printed_lines(text: str, width: int | None) -> list[str] | None:
    """The lines Rich prints for `text` (as markup, escaped where it came from the desk) at
    `width` (None: no wrapping), when it prints its characters unchanged
    (`_layout.shown_as_is`) and breaks its lines as `_layout.wrap` does; else None."""
    from passmuster.cli import _layout

    lines = text.split("\n")
    if not all(_layout.shown_as_is(line) for line in lines):
        return None
    if width is None or all(len(line) <= width for line in lines):
        return lines
    try:
        return [part for line in lines for part in _layout.wrap(line, width, pad=False)]
    except _layout.NotPlain:
        return None


def warn(message: str) -> None:
    err_console().print(f"[yellow]warning:[/yellow] {message}")


# --- JSON -----------------------------------------------------------------------------------


_PLAIN = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names (cached per class: listings convert thousands of issues)."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from dataclasses, enums, datetimes (ISO 8601, UTC), paths and containers."""
    cls: type = type(value)
    if cls in _PLAIN:
        return value
    names = _field_names(cls)
    # Plain values are tested inline: a listing converts tens of thousands of them.
    if names is not None:
        fields = {name: getattr(value, name) for name in names}
        return {k: v if type(v) in _PLAIN else to_jsonable(v) for k, v in fields.items()}
    if cls is list or cls is tuple:
        return [v if type(v) in _PLAIN else to_jsonable(v) for v in value]
    if cls is dict:  # a report's mappings are mostly text keys to plain values
        return {
            k if type(k) is str else str(to_jsonable(k)): v if type(v) in _PLAIN else to_jsonable(v)
            for k, v in value.items()
        }
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, bool | int | float | str):  # subclasses of the plain types
        return value
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic models
        return model_dump(mode="json")
    return str(value)


def emit_json(obj: Any, *, plain: bool = False) -> None:
    """Print `obj` as JSON on stdout: indented, with each long list or mapping one item per line.

    Python's JSON encoder is only fast without indentation (the indented one is written in
    Python), so a list or mapping of more than 50 items is written as one compact line per item:
    still valid JSON, still readable, and several times quicker for a large desk's reports.
    Anything smaller reads exactly as `json.dumps(indent=2)` writes it. `plain`: `obj` is JSON
    data already (a report's `to_dict`), not walked again.
    """
    click.echo(json_text(obj if plain else to_jsonable(obj)))


# Past this many items a list or mapping is written one compact item per line.
_LONG = 50


def json_text(data: Any) -> str:
    """`data` (JSON-able) as indented JSON text, long containers one compact item per line."""
    # Imported here, once per text: a report writes tens of thousands of compact items.
    from passmuster.storage.json_text import dumps_readable

    def key(name: object) -> str:
        # JSON's own rule for keys that are not text: their JSON text (5 -> "5", True -> "true").
        return dumps_readable(name if isinstance(name, str) else dumps_readable(name))

    def text(value: Any, level: int) -> str:
        pad = "  " * (level + 1)
        if isinstance(value, dict) and value:
            if len(value) > _LONG:
                items = [f"{pad}{key(k)}: {dumps_readable(v)}" for k, v in value.items()]
            else:
                items = [f"{pad}{key(k)}: {text(v, level + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
        if isinstance(value, list | tuple) and value:
            if len(value) > _LONG:
                items = [pad + dumps_readable(item) for item in value]
            else:
                items = [pad + text(item, level + 1) for item in value]
            return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"
        return dumps_readable(value)

    return text(data, 0)


def issue_json(issue: Any) -> dict[str, Any]:
    """An issue as JSON, with its display reference (`#007`) added next to its number."""
    data: dict[str, Any] = to_jsonable(issue)
    ref = getattr(issue, "ref", None)
    if ref is not None:
        data = {"ref": ref, **data}
    return data


# --- time -----------------------------------------------------------------------------------


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """A stored UTC time shown in the user's local time zone; "" for None."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored times are UTC even when a driver drops the zone
        moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def parse_when(text: str, *, option: str) -> datetime:
    """A date or date-time typed by a user (local time unless it names a zone), as UTC."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"{option}: cannot read {text!r} as a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM",
            field=option,
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive input means the user's local time
    return moment.astimezone(UTC)


# --- the desk and the actor -----------------------------------------------------------------


def database_url(ctx: click.Context | None = None) -> str | None:
    """The `--database-url` given to `passmuster` (or its environment variable), if any."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is not None:
        obj = ctx.find_root().obj
        if isinstance(obj, dict) and obj.get("database_url"):
            return str(obj["database_url"])
    from passmuster.settings import process_setting

    return process_setting("database_url")


def open_desk(ctx: click.Context | None = None) -> Desk:
    """Open the desk named on the command line, else $PASSMUSTER_DATABASE_URL, else walk up."""
    from passmuster.usecases.desk import Desk

    return Desk.open(database_url(ctx))


@contextmanager
def desk_session(ctx: click.Context | None = None) -> Iterator[Desk]:
    """`with desk_session() as desk:` opens the desk and always closes it.

    A failure of the database itself (a damaged file, a schema this passmuster does not expect,
    a server that went away) becomes DeskError: one line naming the database's own complaint,
    exit 5, instead of a driver traceback.
    """
    from passmuster.cli._startup import import_sqlalchemy

    import_sqlalchemy()
    from sqlalchemy.exc import DBAPIError

    desk = open_desk(ctx)
    try:
        yield desk
    except DBAPIError as exc:
        failure = database_failure(exc, display_url(desk.url))
        raise failure or exc from exc
    finally:
        desk.close()


def database_failure(exc: BaseException, where: str | None = None) -> PassmusterError | None:
    """A failure of the database itself as one line for the user (exit 5), or None when `exc`
    is something else. A read-only desk and a full disk say so; anything else names the
    database's own complaint."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    from passmuster.errors import DeskError

    if isinstance(exc, DBAPIError):
        cause: BaseException = exc.orig or exc
    elif isinstance(exc, sqlite3.Error):
        cause = exc
    else:
        return None
    text = str(cause).strip()
    reason = text.splitlines()[0] if text else type(cause).__name__
    lowered = reason.lower()
    prefix = f"{where}: " if where else ""
    if "readonly database" in lowered or "read-only" in lowered:
        return DeskError(
            f"{prefix}the desk is read-only (a read-only file system, or no permission to write "
            "the file or its folder): reading works, nothing was written"
        )
    if "disk is full" in lowered or "no space left" in lowered:
        return DeskError(f"{prefix}the disk holding the desk is full; nothing was written")
    return DeskError(f"{prefix}the database failed: {reason}")


def actor() -> str:
    """Who is acting: $PASSMUSTER_ACTOR, else the login name."""
    from passmuster.settings import acting_user, process_setting

    return acting_user(process_setting("actor"))


# --- shared looks -----------------------------------------------------------------------------

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "green",
    "info": "dim",
}
STATUS_STYLE = {
    "open": "bold",
    "planned": "cyan",
    "in_progress": "blue",
    "blocked": "magenta",
    "workaround_applied": "yellow",
    "resolved": "green",
    "closed": "dim",
}


def styled(value: Any, styles: Mapping[str, str]) -> str:
    """Rich markup for a vocabulary value (`Severity.HIGH` -> "[bold red]high[/]")."""
    text = str(getattr(value, "value", value))
    style = styles.get(text)
    return f"[{style}]{text}[/]" if style else text


def display_url(url: str) -> str:
    """A database URL safe to print: any password is masked."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))

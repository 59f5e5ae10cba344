"""Small server-side drawings: a service dependency graph and latency sparklines, as SVG.

Pure functions from data to SVG text, so the pages need no drawing library and the tests can
read what was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

STATE_COLOURS = {"up": "#1a7f37", "degraded": "#bf8700", "down": "#cf222e", "unknown": "#8c959f"}

_NODE_W = 150
_NODE_H = 28
_GAP_X = 60
_GAP_Y = 14


@dataclass(frozen=True, slots=True)
class Placed:
    name: str
    x: int
    y: int


def layers(depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Services in columns: a service sits one column right of the deepest thing it needs.

    Dependencies on unknown services are ignored; cycles are broken where they are met.
    """
    names = sorted(depends_on)
    known = set(names)
    depth: dict[str, int] = {}

    def visit(name: str, path: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        needs = [d for d in depends_on.get(name, ()) if d in known and d not in path]
        level = 1 + max((visit(d, path | {name}) for d in needs), default=-1)
        depth[name] = level
        return level

    for name in names:
        visit(name, frozenset())
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in names:
        columns[depth[name]].append(name)
    return columns


def dependency_svg(
    depends_on: Mapping[str, Sequence[str]], states: Mapping[str, str], *, link: str = "#svc-"
) -> str:
    """The dependency graph: boxes coloured by health, arrows from a service to what it needs."""
    columns = layers(depends_on)
    placed: dict[str, Placed] = {}
    for col, names in enumerate(columns):
        for row, name in enumerate(names):
            placed[name] = Placed(
                name, 10 + col * (_NODE_W + _GAP_X), 10 + row * (_NODE_H + _GAP_Y)
            )
    width = 20 + max(len(columns), 1) * (_NODE_W + _GAP_X) - _GAP_X
    height = 20 + max((len(c) for c in columns), default=1) * (_NODE_H + _GAP_Y)
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="Service dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6"'
        ' markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"'
        ' fill="#6e7781"/></marker></defs>',
    ]
    for name, node in placed.items():
        for dep in depends_on.get(name, ()):
            target = placed.get(dep)
            if target is None or target is node:
                continue
            parts.append(
                f'<line x1="{node.x}" y1="{node.y + _NODE_H // 2}" x2="{target.x + _NODE_W}"'
                f' y2="{target.y + _NODE_H // 2}" stroke="#8c959f" marker-end="url(#arrow)"/>'
            )
    for name, node in placed.items():
        state = states.get(name, "unknown")
        colour = STATE_COLOURS.get(state, STATE_COLOURS["unknown"])
        label = escape(name if len(name) <= 20 else name[:19] + "…")
        parts.append(
            f'<a href="{escape(link + name)}"><g class="node state-{escape(state)}"'
            f' data-service="{escape(name)}"><title>{escape(name)}: {escape(state)}</title>'
            f'<rect x="{node.x}" y="{node.y}" width="{_NODE_W}" height="{_NODE_H}" rx="6"'
            f' fill="#fff" stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{node.x + 12}" cy="{node.y + _NODE_H // 2}" r="5" fill="{colour}"/>'
            f'<text x="{node.x + 24}" y="{node.y + _NODE_H // 2 + 4}" font-size="12">{label}</text>'
            "</g></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline_svg(values: Sequence[float | None], *, width: int = 120, height: int = 24) -> str:
    """Recent latencies as a line; failed probes (None) as red ticks on the baseline."""
    if not values:
        return (
            f'<svg class="spark" width="{width}" height="{height}" role="img"'
            ' aria-label="no probes yet"></svg>'
        )
    numbers = [v for v in values if v is not None]
    top = max(numbers, default=1.0) or 1.0
    step = width / max(len(values) - 1, 1)
    points = []
    ticks = []
    for i, value in enumerate(values):
        x = round(i * step, 1)
        if value is None:
            ticks.append(
                f'<line x1="{x}" y1="{height}" x2="{x}" y2="{height - 6}" stroke="#cf222e"/>'
            )
            continue
        y = round(height - 2 - (value / top) * (height - 4), 1)
        points.append(f"{x},{y}")
    line = (
        f'<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="{" ".join(points)}"/>'
        if points
        else ""
    )
    label = f"latency, max {top:.0f} ms"
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{label}">{line}{"".join(ticks)}'
        "</svg>"
    )


def bars_svg(
    values: Sequence[int], *, width: int = 120, height: int = 24, label: str = "events"
) -> str:
    """Counts as bars, oldest first (events per hour); an empty bucket leaves a gap."""
    top = max(values, default=0)
    step = width / max(len(values), 1)
    bars = []
    for i, value in enumerate(values):
        if not value:
            continue
        tall = max(1.0, round(value / top * (height - 2), 1))
        bars.append(
            f'<rect x="{round(i * step, 1)}" y="{round(height - tall, 1)}" '
            f'width="{max(round(step - 1, 1), 1)}" height="{tall}" fill="#cf222e">'
            f"<title>{value}</title></rect>"
        )
    return (
        f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{label}, at most {top} an hour">'
        f"{''.join(bars)}</svg>"
    )

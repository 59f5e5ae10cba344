"""SVG badges in the familiar two-part style (label on grey, message on a colour).

Text widths are estimated from per-character advances of Verdana 11px (the font such badges
use), close enough that text neither overflows nor floats in empty space.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

COLOURS = {
    "good": "#2e7d32",
    "minor": "#9e9d24",
    "major": "#ef6c00",
    "outage": "#c62828",
    "none": "#757575",
    "maintenance": "#1565c0",
}
STATE_COLOURS = {
    "up": COLOURS["good"],
    "degraded": COLOURS["major"],
    "down": COLOURS["outage"],
    "maintenance": COLOURS["maintenance"],
    "unknown": COLOURS["none"],
}
_NARROW = set("fijlrtI1.,:;!|' ()[]")
_WIDE = set("mwMW%@")


def text_width(text: str) -> float:
    width = 0.0
    for char in text:
        if char in _NARROW:
            width += 4.0
        elif char in _WIDE:
            width += 10.0
        elif char.isupper() or char.isdigit():
            width += 7.5
        else:
            width += 6.5
    return width


def badge(label: str, message: str, colour: str) -> str:
    """A badge as SVG text; label and message are escaped."""
    left = round(text_width(label) + 12)
    right = round(text_width(message) + 12)
    total = left + right
    label_x = left / 2
    message_x = left + right / 2
    safe_label, safe_message = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{escape(label, {chr(34): "&quot;"})}: '
        f'{escape(message, {chr(34): "&quot;"})}">'
        f"<title>{safe_label}: {safe_message}</title>"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        f'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" '
        f'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{label_x}" y="14">{safe_label}</text>'
        f'<text x="{message_x}" y="14">{safe_message}</text></g></svg>'
    )

"""Markdown issue logs: read hand-written logs into drafts, render the desk back as Markdown.

`reader.read_file` / `read_text` detect the layout family and return a `model.ParsedLog` (issues
as `IssueDraft`s with their lines, log notes, warnings, stated totals); `writer.render_log` renders
issues in the style of the real logs so that reading the result gives every field back. The
desk-facing steps live in `passmuster.usecases.importing` and `passmuster.usecases.exporting`.
"""

"""Shapes met in a sixth set of real logs: tables titled by a description or incident column
(`说明`, `Incidencia`) and keyed by a `Código` column."""

from __future__ import annotations

from passmuster.core.issues import Status
from passmuster.logs.headings import parse_heading
from passmuster.logs.reader import read_text

DESCRIBED = """# 上线前的已知问题

| 编号 | 状态 | 说明 | 建议 |
| --- | --- | --- | --- |
| K-01 | 待验证 | 打印机在断网后不会自动重连 | 现场重启打印服务 |
| K-02 | 已修复 | 夜间报表偶尔重复发送 | — |
"""

INCIDENTS = """# Registro de incidencias

| Código | Incidencia | Módulo | Estado |
| :--- | :--- | :--- | :---: |
| **RX-01** | El buscador ignora los acentos. | `search.py` | 🟢 **RESUELTO** |
| **RX-02** | La exportación a PDF corta la última página. | `export.py` | ABIERTO |
"""


def test_a_table_titled_by_its_description_column_lists_issues() -> None:
    log = read_text(DESCRIBED, "issues.md")
    assert [(i.draft.title, i.line, i.draft.original_id) for i in log.issues] == [
        ("打印机在断网后不会自动重连", 5, "K-01"),
        ("夜间报表偶尔重复发送", 6, "K-02"),
    ]
    assert log.issues[1].draft.status is Status.RESOLVED


def test_a_table_titled_by_its_incident_column_and_keyed_by_its_code_column() -> None:
    log = read_text(INCIDENTS, "incidencias.md")
    assert [(i.draft.title, i.draft.original_id, i.draft.status) for i in log.issues] == [
        ("El buscador ignora los acentos.", "RX-01", Status.RESOLVED),
        ("La exportación a PDF corta la última página.", "RX-02", Status.OPEN),
    ]


OUTCOME = """# Registro de fallos

### FX-01 — El calendario pierde la zona horaria
- **Gravedad:** Alta
- **Causa:** la fecha se guarda sin zona.
- **Resultado:** 🟢 **RESUELTO** (verificado en la suite).

### FX-02 — La sesión caduca antes de tiempo
- **Gravedad:** Media
- **Resultado:** pendiente de revisión.
"""


def test_a_result_field_stating_a_state_is_the_issue_status() -> None:
    log = read_text(OUTCOME, "fallos.md")
    assert [(i.draft.original_id, i.draft.status) for i in log.issues] == [
        ("FX-01", Status.RESOLVED),
        ("FX-02", Status.OPEN),
    ]


def test_a_state_and_where_it_happened_in_portuguese_or_italian_heading_contractions() -> None:
    for heading in (
        "DEF-07 — Falta o ficheiro de exemplo (corrigido nesta entrega) 🟡 MINOR",
        "DEF-07 — Falta o ficheiro de exemplo (resolvido na versão 2.3)",
        "DEF-07 — Manca il file di esempio (risolto nella versione web)",
    ):
        parsed = parse_heading(heading)
        assert parsed.status_text is not None, heading
        assert parsed.title.startswith(("Falta o ficheiro", "Manca il file")), heading
        assert "(" not in parsed.title, heading

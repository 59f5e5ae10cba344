"""The shipped data tables are meant to be extended by hand; each entry must be well formed."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from passmuster.scanner.facts.tables import table


def test_incompatible_combinations_parse() -> None:
    entries = table("incompatible")["combination"]
    assert {e["id"] for e in entries} >= {"docker-sdk-requests-2.32", "aioredis-python-3.11"}
    for entry in entries:
        assert entry["message"] and entry["when"], entry
        names = {Requirement(text).name for text in entry["when"]}
        assert set(entry.get("unlisted-means-latest", [])) <= names, entry["id"]
        if "python" in entry:
            SpecifierSet(entry["python"])
    assert len({e["id"] for e in entries}) == len(entries)


def test_known_bad_imports_are_complete() -> None:
    entries = table("known_bad_imports")["import"]
    assert ("fastapi", "HTTPStatus") in {(e["module"], e["name"]) for e in entries}
    for entry in entries:
        assert entry["module"] and entry["name"] and entry["message"], entry
        if entry.get("safe-fix"):
            assert entry["replacement"], entry
        if "versions" in entry:
            SpecifierSet(entry["versions"])


def test_build_dependencies_name_known_image_flavours() -> None:
    data = table("build_deps")
    assert set(data["compilers"]) == {"debian", "alpine"}
    names = set()
    for entry in data["package"]:
        assert set(entry["images"]) <= {"slim", "alpine"}, entry["name"]
        assert entry["why"], entry["name"]
        names.add(entry["name"])
    assert {"psycopg2", "psutil"} <= names


def test_database_drivers_cover_every_dialect_default() -> None:
    data = table("databases")
    for dialect, driver in data["dialects"].items():
        assert driver in data["drivers"], dialect
    for family, drivers in data["conflicts"].items():
        assert len(drivers) >= 2, family


def test_import_providers_name_their_library_first() -> None:
    entries = table("import_providers")["module"]
    assert {e["import"] for e in entries} >= {"grpc", "kafka", "aio_pika"}
    for entry in entries:
        assert entry["import"].isidentifier() and entry["packages"], entry
        Requirement(entry["packages"][0])
    assert len({e["import"] for e in entries}) == len(entries)

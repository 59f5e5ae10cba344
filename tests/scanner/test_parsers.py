"""The file parsers under discovery: Dockerfiles, env files and requirements files."""

from __future__ import annotations

from passmuster.scanner.context.dockerfile import parse_dockerfile
from passmuster.scanner.context.envfile import parse_env_file
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.requirements import parse_requirements

DOCKERFILE = """\
# escape=`
ARG PY=3.12
FROM python:${PY}-alpine AS build
RUN apk add --no-cache build-base `
    # the PostgreSQL headers
    postgresql-dev
FROM build
WORKDIR /srv
COPY --chown=app:app req/prod.txt /srv/requirements.txt
RUN python -m pip install --no-cache-dir -r requirements.txt uvicorn==0.30.0
EXPOSE 8000/tcp 9000-9001
HEALTHCHECK NONE
CMD ["uvicorn", "main:app"]
"""


def test_dockerfile_stages_inherit_packages_and_resolve_args() -> None:
    parsed = parse_dockerfile(DOCKERFILE, "Dockerfile")
    assert parsed.problems == []
    build, final = parsed.stages
    assert (build.base, build.name, build.line) == ("python:3.12-alpine", "build", 3)
    assert build.system_packages == {"build-base", "postgresql-dev"}
    assert final.base == "python:3.12-alpine" and final.system_packages == build.system_packages
    image = parse_image(final.base)
    assert (image.name, image.tag_or_latest) == ("python", "3.12-alpine")


def test_dockerfile_instructions_keep_their_lines_and_flags() -> None:
    parsed = parse_dockerfile(DOCKERFILE, "Dockerfile")
    run = parsed.final_instructions("RUN")[0]
    assert (run.line, run.end_line) == (10, 10)
    copy = parsed.last("COPY")
    assert copy is not None and copy.flags == ("--chown=app:app",)
    assert [(p.requirement_files, p.packages, p.line) for p in parsed.pip_installs] == [
        (("requirements.txt",), ("uvicorn==0.30.0",), 10)
    ]
    cmd = parsed.last("CMD")
    assert cmd is not None and cmd.exec_form() == ["uvicorn", "main:app"]


def test_a_dockerfile_without_from_is_a_problem() -> None:
    parsed = parse_dockerfile("RUN echo hi\nBOGUS thing\n", "Dockerfile")
    assert [(p.line, p.message) for p in parsed.problems] == [
        (1, "RUN before the first FROM"),
        (2, "unknown instruction 'BOGUS'"),
    ]


ENV_TEXT = """\
# comment
export API_KEY=abc123
PLAIN=value # trailing comment
HASH=va#lue
QUOTED="two words # not a comment"
SINGLE='$NOT_EXPANDED'
MULTI="line one
line two"
PASSTHROUGH
API_KEY=again
not an assignment!
"""


def test_env_files_read_like_compose() -> None:
    parsed = parse_env_file(ENV_TEXT, ".env")
    assert [(e.key, e.value, e.line) for e in parsed.entries] == [
        ("API_KEY", "abc123", 2),
        ("PLAIN", "value", 3),
        ("HASH", "va#lue", 4),
        ("QUOTED", "two words # not a comment", 5),
        ("SINGLE", "$NOT_EXPANDED", 6),
        ("MULTI", "line one\nline two", 7),
        ("API_KEY", "again", 10),
    ]
    assert parsed.values()["API_KEY"] == "again"
    assert [(p.line, p.message) for p in parsed.problems] == [
        (11, "not KEY=value: 'not an assignment!'")
    ]


def test_requirements_lines_includes_and_errors() -> None:
    text = (
        "-r ../shared.txt\n"
        "-rlocal.txt\n"
        "--constraint=c.txt\n"
        "--index-url https://example.org/simple\n"
        "Django[argon2]>=4.2,<5 ; python_version >= '3.10'  # web\n"
        "requests==2.32.3 \\\n    --hash=sha256:abc\n"
        "-e git+https://example.org/x.git#egg=Internal_Pkg\n"
        "fastapi=>1.0\n"
    )
    parsed = parse_requirements(
        text, "svc/requirements.txt", exists=lambda p: p != "svc/c.txt", inside=lambda p: p
    )
    assert [(i.kind, i.resolved, i.line, i.exists) for i in parsed.includes] == [
        ("requirement", "shared.txt", 1, True),
        ("requirement", "svc/local.txt", 2, True),
        ("constraint", "svc/c.txt", 3, False),
    ]
    assert [(r.name, r.specifier, r.line, r.extras) for r in parsed.requirements] == [
        ("django", "<5,>=4.2", 5, ("argon2",)),
        ("requests", "==2.32.3", 6, ()),
        ("internal-pkg", "", 8, ()),
    ]
    assert parsed.requirements[1].pinned_version == "2.32.3"
    assert [(i.line, i.text) for i in parsed.invalid] == [(9, "fastapi=>1.0")]
    assert parsed.options == [(4, "--index-url https://example.org/simple")]


def test_env_values_refer_to_earlier_lines_like_compose() -> None:
    parsed = parse_env_file(
        "HOST=db\nPORT=5432\nURL=postgresql://${HOST}:${PORT:-1}/app\n"
        "LITERAL='${HOST}'\nQUOTED=\"${HOST}-x\"\nLATER=${AFTER:-none}\nAFTER=1\n",
        ".env",
    )
    values = parsed.resolved()
    assert values["URL"] == "postgresql://db:5432/app"
    assert values["LITERAL"] == "${HOST}"
    assert values["QUOTED"] == "db-x"
    assert values["LATER"] == "none"

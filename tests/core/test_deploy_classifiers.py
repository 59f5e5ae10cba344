"""Each failure class on the output real services print when they fail that way."""

from __future__ import annotations

import pytest

from passmuster.core.deploy.attempts import Result
from passmuster.core.deploy.classifiers import builtin_modules
from passmuster.core.deploy.classify import Classifiers, Evidence, last_python_error
from passmuster.errors import ConfigError


@pytest.fixture(scope="module")
def catalogue() -> Classifiers:
    found = Classifiers()
    for module in builtin_modules():
        found.register_module(module)
    return found


def _classify(catalogue: Classifiers, output: str, **kwargs: object) -> tuple[str, str | None]:
    failure = catalogue.classify(
        Evidence("billing", kwargs.pop("result", Result.FAILED), output=output, **kwargs)  # type: ignore[arg-type]
    )
    return failure.name, failure.subject


UVICORN_IMPORT = """\
INFO:     Will watch for changes in these directories: ['/app']
Traceback (most recent call last):
  File "/usr/local/bin/uvicorn", line 8, in <module>
    sys.exit(main())
  File "/usr/local/lib/python3.11/site-packages/uvicorn/importer.py", line 19, in import_from_string
    module = importlib.import_module(module_str)
  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import
  File "/app/app/main.py", line 5, in <module>
    from fastapi import FastAPI, HTTPException, HTTPStatus
ImportError: cannot import name 'HTTPStatus' from 'fastapi' (/usr/lib/python3/fastapi/__init__.py)
"""

COMPOSE_PREFIXED_NAME_ERROR = """\
tenants-1  | Traceback (most recent call last):
tenants-1  |   File "/app/app/main.py", line 22, in <module>
tenants-1  |     async def my_tenants(user: dict = Depends(get_current_user)) -> list[dict]:
tenants-1  |                                               ^^^^^^^^^^^^^^^^
tenants-1  | NameError: name 'get_current_user' is not defined
tenants-1 exited with code 1
"""


def test_an_import_error_names_what_could_not_be_imported(catalogue: Classifiers) -> None:
    failure = catalogue.classify(Evidence("billing", Result.FAILED, 1, UVICORN_IMPORT))
    assert failure.name == "import-error"
    assert failure.subject == "HTTPStatus"
    assert "CODE001" in failure.predicted_by
    # The machine's own paths stay out of the summary, so two machines tell the same story.
    assert failure.summary == "ImportError: cannot import name 'HTTPStatus' from 'fastapi'"
    assert failure.excerpt.splitlines()[0] == "Traceback (most recent call last):"
    assert "<frozen" not in failure.excerpt
    assert failure.excerpt.splitlines()[-1].startswith("ImportError")


def test_a_missing_module_names_its_top_package(catalogue: Classifiers) -> None:
    out = (
        'Traceback (most recent call last):\n  File "/app/db.py", line 1, in <module>\n'
        "    import asyncpg.pool\nModuleNotFoundError: No module named 'asyncpg'\n"
    )
    assert _classify(catalogue, out) == ("import-error", "asyncpg")


def test_uvicorn_that_cannot_find_the_module_is_an_import_error(catalogue: Classifiers) -> None:
    out = 'ERROR:    Error loading ASGI app. Could not import module "app.main".\n'
    assert _classify(catalogue, out) == ("import-error", "app.main")


def test_a_name_error_behind_compose_log_prefixes(catalogue: Classifiers) -> None:
    assert _classify(catalogue, COMPOSE_PREFIXED_NAME_ERROR) == ("name-error", "get_current_user")


@pytest.mark.parametrize(
    ("output", "port"),
    [
        (
            "ERROR:    [Errno 98] error while attempting to bind on address "
            "('127.0.0.1', 8001): address already in use\n",
            "8001",
        ),
        (
            "Error response from daemon: driver failed programming external connectivity on "
            "endpoint app-billing-1: Bind for 0.0.0.0:8004 failed: port is already allocated\n",
            "8004",
        ),
        ("[2024-05-01 10:00:00 +0000] [1] [ERROR] Connection in use: ('0.0.0.0', 5000)\n", "5000"),
        ("Error: listen EADDRINUSE: address already in use :::3000\n", "3000"),
        ("OSError: [Errno 98] Address already in use\n", None),
    ],
)
def test_a_taken_port_is_recognised_with_its_number(
    catalogue: Classifiers, output: str, port: str | None
) -> None:
    assert _classify(catalogue, output) == ("port-in-use", port)


def test_the_local_runner_s_own_port_check_is_a_taken_port(catalogue: Classifiers) -> None:
    failure = catalogue.classify(
        Evidence(
            "billing", Result.FAILED, reason="port 8004 on 127.0.0.1 is in use by another process"
        )
    )
    assert (failure.name, failure.subject) == ("port-in-use", "8004")


@pytest.mark.parametrize(
    ("output", "variable"),
    [
        (
            'Traceback (most recent call last):\n  File "/app/config.py", line 4, in <module>\n'
            '    DATABASE_URL = os.environ["DATABASE_URL"]\n'
            "  File \"<frozen os>\", line 679, in __getitem__\nKeyError: 'DATABASE_URL'\n",
            "DATABASE_URL",
        ),
        (
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\n"
            "jwt_secret\n  Field required [type=missing, input_value={}, input_type=dict]\n",
            "JWT_SECRET",
        ),
        (
            "error while interpolating services.api.environment.[]: "
            "required variable API_KEY is missing a value\n",
            "API_KEY",
        ),
        ("RuntimeError: environment variable REDIS_URL is not set\n", "REDIS_URL"),
    ],
)
def test_a_missing_variable_is_named(catalogue: Classifiers, output: str, variable: str) -> None:
    assert _classify(catalogue, output) == ("missing-env", variable)


def test_a_key_error_that_is_not_about_the_environment_is_not_a_missing_variable(
    catalogue: Classifiers,
) -> None:
    out = (
        'Traceback (most recent call last):\n  File "/app/x.py", line 3, in <module>\n'
        "    PLANS['gold']\nKeyError: 'gold'\n"
    )
    assert _classify(catalogue, out)[0] == "unclassified"


@pytest.mark.parametrize(
    ("output", "package"),
    [
        (
            " => ERROR [billing 4/6] RUN pip install --no-cache-dir -r requirements.txt\n"
            "ERROR: Could not find a version that satisfies the requirement fastapi==9.9.9 "
            "(from versions: 0.1.0, 0.115.0)\nERROR: No matching distribution found for "
            'fastapi==9.9.9\nfailed to solve: process "/bin/sh -c pip install --no-cache-dir -r '
            'requirements.txt" did not complete successfully: exit code: 1\n',
            # BuildKit's last line names no package; pip's line above it does.
            "fastapi",
        ),
        (
            "      Error: pg_config executable not found.\n"
            "      pg_config is required to build psycopg2 from source.\n"
            "  ERROR: Failed building wheel for psycopg2\n",
            "psycopg2",
        ),
    ],
)
def test_a_build_failure_is_recognised(
    catalogue: Classifiers, output: str, package: str | None
) -> None:
    assert _classify(catalogue, output) == ("build-failed", package)


def test_a_build_that_dies_for_memory_is_out_of_memory(catalogue: Classifiers) -> None:
    out = " => ERROR [4/6] RUN pip install -r requirements.txt\nKilled\nexit code: 137\n"
    assert _classify(catalogue, out)[0] == "oom-killed"


def test_sigkill_the_deploy_sent_is_not_out_of_memory(catalogue: Classifiers) -> None:
    evidence = Evidence(
        "billing",
        Result.TIMED_OUT,
        exit_code=-9,
        reason="no passing health probe within 5s (last: connection refused)",
        probe_reason="connection refused",
        killed_by_deploy=True,
    )
    assert catalogue.classify(evidence).name == "health-never-ready"
    evidence = Evidence("billing", Result.FAILED, exit_code=137, output="starting workers\n")
    assert catalogue.classify(evidence).name == "oom-killed"


def test_an_unhealthy_dependency_names_it(catalogue: Classifiers) -> None:
    evidence = Evidence(
        "tenants",
        Result.FAILED,
        reason="dependency identity is not healthy: connection refused",
        unhealthy_dependencies=("identity",),
    )
    assert (catalogue.classify(evidence).name, catalogue.classify(evidence).subject) == (
        "dependency-unhealthy",
        "identity",
    )


def test_a_refused_connection_to_a_known_host_names_the_service(catalogue: Classifiers) -> None:
    out = (
        'Traceback (most recent call last):\n  File "/app/db.py", line 9, in connect\n'
        "    engine.connect()\nsqlalchemy.exc.OperationalError: (psycopg2.OperationalError) "
        'connection to server at "postgres" (172.18.0.2), port 5432 failed: Connection refused\n'
    )
    failure = catalogue.classify(
        Evidence("billing", Result.FAILED, 1, out, hosts={"postgres": "postgres"})
    )
    assert (failure.name, failure.subject) == ("dependency-unhealthy", "postgres")


def test_the_last_traceback_is_the_one_that_counts(catalogue: Classifiers) -> None:
    out = COMPOSE_PREFIXED_NAME_ERROR.replace("tenants-1  | ", "") + UVICORN_IMPORT
    assert _classify(catalogue, out)[0] == "import-error"


def test_a_service_that_never_answers_is_health_never_ready(catalogue: Classifiers) -> None:
    evidence = Evidence(
        "notifications",
        Result.TIMED_OUT,
        output="INFO:     Uvicorn running on http://127.0.0.1:8005\n",
        reason="no passing health probe within 30s (last: HTTP 404)",
        probe_reason="HTTP 404",
    )
    failure = catalogue.classify(evidence)
    assert failure.name == "health-never-ready"
    assert "HTTP 404" in failure.excerpt
    assert "CODE004" in failure.predicted_by


def test_anything_else_is_unclassified_with_its_last_lines(catalogue: Classifiers) -> None:
    failure = catalogue.classify(
        Evidence("x", Result.FAILED, 3, "\n".join(f"line {n}" for n in range(40)))
    )
    assert failure.name == "unclassified"
    assert failure.summary == "exited with code 3"
    assert failure.excerpt.splitlines()[-1] == "line 39"


def test_every_classifier_documents_itself(catalogue: Classifiers) -> None:
    names = [c.name for c in catalogue.all()]
    assert names[-1] == "unclassified"
    assert len(names) >= 9
    for classifier in catalogue.all():
        assert classifier.problems() == []
        assert classifier.section("How to fix it")


def test_a_classifier_without_its_documentation_is_refused() -> None:
    from passmuster.core.deploy.classify import Classifier

    class Careless(Classifier):
        name = "careless"
        title = "t"

    with pytest.raises(ConfigError, match="heading"):
        Classifiers().register(Careless)


def test_a_traceback_reader_ignores_text_that_only_looks_like_one() -> None:
    assert last_python_error("Traceback (most recent call last):\n  File x\n{json: 1}\n") is None
    found = last_python_error(
        'Traceback (most recent call last):\n  File "a", line 1\nValueError: bad\n'
    )
    assert found is not None and (found.type, found.message) == ("ValueError", "bad")


# Layouts real logs arrive in (seen in public issue threads; the texts here are our own).


def test_a_traceback_under_time_stamps_keeps_its_indentation(catalogue: Classifiers) -> None:
    out = "\n".join(
        f"2026-03-02 10:00:0{n} {line}"
        for n, line in enumerate(
            [
                "Traceback (most recent call last):",
                '  File "/srv/app/config.py", line 3, in <module>',
                '    TOKEN = os.environ["BOT_TOKEN"]',
                '  File "<frozen os>", line 679, in __getitem__',
                "KeyError: 'BOT_TOKEN'",
            ]
        )
    )
    assert _classify(catalogue, out) == ("missing-env", "BOT_TOKEN")


def test_a_process_manager_s_prefix_is_read_through(catalogue: Classifiers) -> None:
    out = (
        "09:00:01 api.1  | Traceback (most recent call last):\n"
        '09:00:01 api.1  |   File "/srv/app/__init__.py", line 9, in <module>\n'
        "09:00:01 api.1  |     from .routes import router\n"
        "09:00:01 api.1  | ModuleNotFoundError: No module named 'orjson'\n"
        "09:00:02 api.1  | exited with code 1\n"
    )
    assert _classify(catalogue, out) == ("import-error", "orjson")


def test_a_traceback_cut_at_its_head_still_names_the_variable(catalogue: Classifiers) -> None:
    out = (
        'File "main.py", line 2, in <module>\n    import config\n'
        '  File "/srv/config.py", line 5, in <module>\n    URL = os.environ["UPSTREAM_URL"]\n'
        "KeyError: 'UPSTREAM_URL'\n"
    )
    assert _classify(catalogue, out) == ("missing-env", "UPSTREAM_URL")


@pytest.mark.parametrize("gap", ["\n", "\n\n"])
def test_pydantic_settings_name_the_first_missing_field(catalogue: Classifiers, gap: str) -> None:
    out = gap.join(
        [
            "web-1  | pydantic_core._pydantic_core.ValidationError: "
            "2 validation errors for AppConfig",
            "web-1  | smtp.password",
            "web-1  |   Field required [type=missing, input_value={}, input_type=dict]",
            "web-1  | region",
            "web-1  |   Field required [type=missing, input_value={}, input_type=dict]",
        ]
    )
    assert _classify(catalogue, out) == ("missing-env", "SMTP__PASSWORD")


@pytest.mark.parametrize(
    ("output", "port"),
    [
        (
            "docker: Error response from daemon: Ports are not available: listen tcp 0.0.0.0:9000: "
            "bind: address already in use.",
            "9000",
        ),
        ("nginx: [emerg] bind() to 0.0.0.0:443 failed (98: Address already in use)", "443"),
        (
            "ERROR:    [Errno 10048] error while attempting to bind on address "
            "('127.0.0.1', 8080): "
            "only one usage of each socket address (protocol/network address/port) is normally "
            "permitted",
            "8080",
        ),
    ],
)
def test_ports_taken_as_other_tools_say_it(catalogue: Classifiers, output: str, port: str) -> None:
    assert _classify(catalogue, output) == ("port-in-use", port)


def test_a_database_that_cannot_be_found_by_name_is_an_unhealthy_dependency(
    catalogue: Classifiers,
) -> None:
    out = (
        'worker-1  | ERROR:app:(psycopg2.OperationalError) could not translate host name "pg" '
        "to address: Temporary failure in name resolution\nworker-1  |\n"
    )
    assert _classify(catalogue, out) == ("dependency-unhealthy", "pg")


def test_an_operational_error_that_is_not_about_connecting_is_not_a_dependency(
    catalogue: Classifiers,
) -> None:
    out = (
        'Traceback (most recent call last):\n  File "/srv/db.py", line 4, in <module>\n'
        "    rows = conn.execute(q)\n"
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: users\n"
    )
    assert _classify(catalogue, out)[0] == "unclassified"


@pytest.mark.parametrize(
    ("output", "subject"),
    [
        # A broker URL with credentials, behind a time stamp whose `12:01` is not a host:port.
        (
            "[2026-03-02 12:01:07,114: ERROR/MainProcess] consumer: Cannot connect to "
            "amqp://ledger:**@broker:5672//: [Errno 111] Connection refused.\n"
            "Trying again in 4.00 seconds... (2/100)\n",
            "broker:5672",
        ),
        # The same retry for another reason: the consumer line is what says it.
        (
            "jobs-1  | [2026-03-02 12:01:07,114: ERROR/MainProcess] consumer: Cannot connect to "
            "redis://queue:6379/0: timed out.\njobs-1  | Trying again in 6.00 seconds... (3/100)\n",
            "queue:6379",
        ),
        # A logger's `module.py:LINE` before the message is a place in the code, not a host.
        (
            "ERROR [MainThread] [tasks.py:88] - could not connect to server: Connection refused "
            "(ledger-db:5432)\n",
            "ledger-db:5432",
        ),
        (
            "OperationalError: failed to resolve host 'ledger-db': [Errno -2] Name or service "
            "not known\n",
            "ledger-db",
        ),
        (
            " ✔ Container ledger-cache-1  Healthy\n ✘ Container ledger-db-1  Error\n"
            "dependency failed to start: container ledger-db-1 is unhealthy\n",
            "ledger-db-1",
        ),
        ("dependency failed to start: container ledger-db exited (1)\n", "ledger-db"),
        (
            'Traceback (most recent call last):\n  File "/srv/bus.py", line 3, in <module>\n'
            "    producer = KafkaProducer(bootstrap_servers=BROKERS)\n"
            "kafka.errors.NoBrokersAvailable: NoBrokersAvailable\n",
            None,
        ),
    ],
)
def test_an_unreachable_dependency_names_where_it_was_dialled(
    catalogue: Classifiers, output: str, subject: str | None
) -> None:
    assert _classify(catalogue, output) == ("dependency-unhealthy", subject)


def test_a_database_that_answers_with_a_refusal_is_reachable(catalogue: Classifiers) -> None:
    # The server was reached and turned the login down: a credentials problem, not a
    # dependency down; the rest of the line says "failed" again, which must not count.
    out = (
        'psql: error: connection to server at "ledger-db" (172.20.0.4), port 5432 failed: '
        'FATAL:  password authentication failed for user "ledger"\n'
    )
    assert _classify(catalogue, out)[0] == "unclassified"
    refused = out.replace(
        'FATAL:  password authentication failed for user "ledger"', "Connection refused"
    )
    assert _classify(catalogue, refused) == ("dependency-unhealthy", "ledger-db:5432")


@pytest.mark.parametrize(
    ("output", "port"),
    [
        # gunicorn under a process manager: the time stamp's `09:14` is not the port.
        (
            "[2026-03-02 09:14:05 +0000] [41] [INFO] Starting gunicorn 22.0.0\n"
            "[2026-03-02 09:14:05 +0000] [41] [ERROR] Connection in use: ('0.0.0.0', 8020)\n"
            "[2026-03-02 09:14:05 +0000] [41] [ERROR] Retrying in 1 second.\n",
            "8020",
        ),
        # uvicorn names no port on its error line; where it listens says which one.
        (
            "INFO:     Started server process [7]\nINFO:     Waiting for application startup.\n"
            "ERROR:    [Errno 98] Address already in use\n"
            "INFO:     Uvicorn running on http://0.0.0.0:8031 (Press CTRL+C to quit)\n",
            "8031",
        ),
        # Werkzeug puts the port on the line after.
        (
            " * Serving Flask app 'ledger'\nAddress already in use\n"
            "Port 5055 is in use by another program. Either identify and stop that program, "
            "or start the server with a different port.\n",
            "5055",
        ),
        # Nothing names it: no guess.
        (
            'Traceback (most recent call last):\n  File "/srv/run.py", line 3, in <module>\n'
            "    app.run(port=PORT)\nOSError: [Errno 48] Address already in use\n",
            None,
        ),
    ],
)
def test_a_taken_port_is_named_even_off_the_error_line(
    catalogue: Classifiers, output: str, port: str | None
) -> None:
    assert _classify(catalogue, output) == ("port-in-use", port)


@pytest.mark.parametrize(
    "output",
    [
        "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 137\n",
        "Build failed running assets.compile: Subprocess return code: 137\n",
        "2026-03-02 09:14:05,101 INFO exited: ledger (exit status 137; not expected)\n",
    ],
)
def test_status_137_is_out_of_memory_however_the_tool_words_it(
    catalogue: Classifiers, output: str
) -> None:
    assert _classify(catalogue, output)[0] == "oom-killed"


@pytest.mark.parametrize(
    ("output", "package"),
    [
        # The classic builder's last line names no package; pip's lines above it do.
        (
            "Step 5/9 : RUN pip install -r requirements.txt\n ---> Running in 3f2a\n"
            "ERROR: Could not find a version that satisfies the requirement ledgerkit==9.9 "
            "(from versions: 1.0, 1.1)\nERROR: No matching distribution found for ledgerkit==9.9\n"
            "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero "
            "code: 1\n",
            "ledgerkit",
        ),
        (
            "#7 2.114 ERROR: No matching distribution found for ledgerkit==9.9\n------\n"
            "executor failed running [/bin/sh -c pip install -r requirements.txt]: exit code: 1\n",
            "ledgerkit",
        ),
        (
            "Updating dependencies\nResolving dependencies...\n\n"
            "Package ledgerkit (9.9.post1) not found.\n",
            "ledgerkit",
        ),
        (
            "Because ledger depends on ledgerkit (>=9) which doesn't match any versions, "
            "version solving failed.\n",
            None,
        ),
    ],
)
def test_builds_fail_as_the_classic_builder_and_poetry_say_it(
    catalogue: Classifiers, output: str, package: str | None
) -> None:
    assert _classify(catalogue, output) == ("build-failed", package)


@pytest.mark.parametrize(
    ("output", "subject"),
    [
        (
            " * Serving Flask app 'ledger'\nUsage: flask run [OPTIONS]\n\n"
            "Error: Could not import 'ledger'.\n",
            "ledger",
        ),
        ('flask.cli.NoAppException: Could not import "ledger.wsgi".\n', "ledger.wsgi"),
        # The last exception names nothing; the one it was raised from names the package.
        (
            "web-1  | Traceback (most recent call last):\n"
            'web-1  |   File "/srv/manage.py", line 9, in main\n'
            "web-1  |     from django.core.management import execute_from_command_line\n"
            "web-1  | ModuleNotFoundError: No module named 'django'\nweb-1  | \n"
            "web-1  | The above exception was the direct cause of the following exception:\n"
            "web-1  | \nweb-1  | Traceback (most recent call last):\n"
            'web-1  |   File "/srv/manage.py", line 14, in main\n'
            'web-1  |     raise ImportError("Couldn\'t import Django.") from exc\n'
            "web-1  | ImportError: Couldn't import Django. Is it installed?\n",
            "django",
        ),
    ],
)
def test_an_app_that_does_not_import_is_named_as_each_server_says_it(
    catalogue: Classifiers, output: str, subject: str
) -> None:
    assert _classify(catalogue, output) == ("import-error", subject)


@pytest.mark.parametrize(
    ("output", "subject"),
    [
        # libpq puts host and port on the indented lines under its one-line error.
        (
            "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to "
            "server: Connection refused\n"
            '\tIs the server running on host "ledger-db" (172.20.0.4) and accepting\n'
            "\tTCP/IP connections on port 5433?\n",
            "ledger-db:5433",
        ),
        (
            'worker-1  | psycopg2.OperationalError: connection to server at "ledger-db" '
            "(172.20.0.4), port 5433 failed: Connection refused\n"
            "worker-1  | \tIs the server running on that host and accepting TCP/IP connections?\n",
            "ledger-db:5433",
        ),
    ],
)
def test_libpq_s_refusal_names_host_and_port(
    catalogue: Classifiers, output: str, subject: str
) -> None:
    assert _classify(catalogue, output) == ("dependency-unhealthy", subject)


def test_a_package_built_from_source_is_named_from_pip_s_collecting_line(
    catalogue: Classifiers,
) -> None:
    out = (
        "Collecting ledgerkit==2.0 (from -r requirements.txt (line 3))\n"
        "  Using cached ledgerkit-2.0.tar.gz (12 kB)\n"
        "Collecting ledger-native==1.4 (from -r requirements.txt (line 4))\n"
        "  Downloading ledger-native-1.4.tar.gz (380 kB)\n"
        "  error: subprocess-exited-with-error\n\n"
        "  × python setup.py egg_info did not run successfully.\n"
        "  │ exit code: 1\n"
        "      Error: pg_config executable not found.\n"
    )
    assert _classify(catalogue, out) == ("build-failed", "ledger-native")
    # A build that fails for another reason after pip finished names no package of pip's.
    copy = (
        "Collecting ledgerkit==2.0\nSuccessfully installed ledgerkit-2.0\nCOPY failed: no source\n"
    )
    assert _classify(catalogue, copy) == ("build-failed", None)


def test_compose_v1_s_missing_mandatory_value_names_the_variable(catalogue: Classifiers) -> None:
    out = (
        'ERROR: Missing mandatory value for "environment" option interpolating '
        "{'LEDGER_KEY': '${LEDGER_SIGNING_KEY:?set it in .env}'} in service \"ledger\": "
        "set it in .env\n"
    )
    assert _classify(catalogue, out) == ("missing-env", "LEDGER_SIGNING_KEY")


def test_docker_desktop_s_capitalised_windows_message_is_a_taken_port(
    catalogue: Classifiers,
) -> None:
    out = (
        "Error response from daemon: Ports are not available: exposing port TCP 0.0.0.0:5433 -> "
        "0.0.0.0:0: listen tcp 0.0.0.0:5433: bind: Only one usage of each socket address "
        "(protocol/network address/port) is normally permitted.\n"
    )
    assert _classify(catalogue, out) == ("port-in-use", "5433")


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        # The systemd journal's prefix, no traceback head.
        (
            'Mar 02 09:14:05 ledger-host gunicorn[811]:   File "/srv/ledger/wsgi.py", line 4\n'
            "Mar 02 09:14:05 ledger-host gunicorn[811]: ModuleNotFoundError: No module named "
            "'ledgerkit'\n"
            "Mar 02 09:14:05 ledger-host systemd[1]: ledger.service: Failed with result "
            "'exit-code'.\n",
            ("import-error", "ledgerkit"),
        ),
        # A whole traceback under the journal's prefix, the month in another language.
        (
            "3月 02 09:14:05 ledger-host gunicorn[811]: Traceback (most recent call last):\n"
            '3月 02 09:14:05 ledger-host gunicorn[811]:   File "/srv/ledger/app.py", line 9, '
            "in <module>\n"
            "3月 02 09:14:05 ledger-host gunicorn[811]:     app = build(ledger_settings)\n"
            "3月 02 09:14:05 ledger-host gunicorn[811]: NameError: name 'ledger_settings' is not "
            "defined\n",
            ("name-error", "ledger_settings"),
        ),
        # balena's service name and two spaces.
        (
            " ledger  ImportError: cannot import name 'Ledger' from 'ledgerkit' "
            "(/usr/lib/python3/ledgerkit/__init__.py)\n ledger  [INFO] Worker exiting (pid: 9)\n",
            ("import-error", "Ledger"),
        ),
        (
            "Error:\nUnable to load celery application.\nModule 'ledger' has no attribute "
            "'worker'\n",
            ("import-error", "worker"),
        ),
        (
            "Error:\nUnable to load celery application.\nThe module ledger.tasks was not found.\n",
            ("import-error", "ledger.tasks"),
        ),
    ],
)
def test_exceptions_behind_journal_and_other_prefixes(
    catalogue: Classifiers, output: str, expected: tuple[str, str]
) -> None:
    assert _classify(catalogue, output) == expected


@pytest.mark.parametrize(
    ("output", "port"),
    [
        # Windows' own spelling, in the machine's language; the port only on the command line.
        (
            "$ uvicorn ledger:app --host=0.0.0.0 --port=8044\nTraceback (most recent call last):\n"
            '  File "C:\\Python311\\Lib\\asyncio\\base_events.py", line 1536, in create_server\n'
            "    sock.bind(sa)\nOSError: [WinError 10048] Normalerweise darf jede Socketadresse "
            "nur jeweils einmal verwendet werden\n",
            "8044",
        ),
        # A message wrapped after its colon.
        (
            "ERROR:    [Errno 48] error while attempting to bind on address ('0.0.0.0', 8045):\n"
            "address already in use\n",
            "8045",
        ),
    ],
)
def test_a_taken_port_in_windows_words_and_wrapped(
    catalogue: Classifiers, output: str, port: str
) -> None:
    assert _classify(catalogue, output) == ("port-in-use", port)


def test_an_upstream_nginx_cannot_resolve_is_an_unreachable_dependency(
    catalogue: Classifiers,
) -> None:
    out = (
        'proxy-1  | nginx: [emerg] host not found in upstream "ledger:8040" in '
        "/etc/nginx/conf.d/default.conf:7\nproxy-1 exited with code 1\n"
    )
    assert _classify(catalogue, out) == ("dependency-unhealthy", "ledger:8040")
    bare = out.replace('"ledger:8040"', '"ledger"')
    assert _classify(catalogue, bare) == ("dependency-unhealthy", "ledger")


@pytest.mark.parametrize(
    ("output", "subject"),
    [
        # A connection error alone on its line, the traceback's head cut off and the line
        # indented by the logger.
        (
            '   File "/srv/bus.py", line 8, in connect\n'
            "     raise self._reap_last_connection_workflow_error(error)\n"
            " pika.exceptions.AMQPConnectionError\n",
            None,
        ),
        # MongoDB's drivers when no server answers.
        (
            'jobs-1  | ERROR [-] Failed to connect to database "ledger" @ "ledger-mongo:27017": '
            "No servers found yet, Timeout: 3.0s\njobs-1  | Traceback (most recent call last):\n",
            "ledger-mongo:27017",
        ),
        ("MongoServerSelectionError: Server selection timed out after 2000 ms\n", None),
    ],
)
def test_drivers_that_reach_no_server_are_an_unreachable_dependency(
    catalogue: Classifiers, output: str, subject: str | None
) -> None:
    assert _classify(catalogue, output) == ("dependency-unhealthy", subject)


def test_a_connection_error_named_in_code_is_not_one_raised(catalogue: Classifiers) -> None:
    out = "ledger-1  |     raise AMQPConnectionError(reason)\nledger-1 exited with code 3\n"
    assert _classify(catalogue, out)[0] == "unclassified"


@pytest.mark.parametrize(
    ("output", "port"),
    [
        # Node: the last mention is the error object's `code:` line; its `port:` field and the
        # message above name the port, a source file's `loader.js:812` does not.
        (
            "Error: listen EADDRINUSE: address already in use :::4050\n"
            "    at Server.setupListenHandle [as _listen2] (node:net:1817:16)\n"
            "    at Module._load (node:internal/modules/cjs/loader:812:12) {\n"
            "  code: 'EADDRINUSE',\n  errno: -98,\n  syscall: 'listen',\n  port: 4050\n}\n",
            "4050",
        ),
        (
            '{"level":50,"err":{"message":"listen EADDRINUSE: address already in use :::4051",'
            '"code":"EADDRINUSE","port":4051}}\n',
            "4051",
        ),
    ],
)
def test_node_s_taken_port_is_named(catalogue: Classifiers, output: str, port: str) -> None:
    assert _classify(catalogue, output) == ("port-in-use", port)


@pytest.mark.parametrize(
    "output",
    [
        "Mar 02 09:14:05 ledger-host kernel: python3 invoked oom-killer: gfp_mask=0xcc0, order=0\n"
        "Mar 02 09:14:05 ledger-host kernel:  oom_kill_process+0x254/0x3d0\n",
        "[811.470877] oom-kill:constraint=CONSTRAINT_MEMCG,task=gunicorn,pid=811,uid=1000\n",
    ],
)
def test_the_kernel_s_own_oom_words_are_out_of_memory(catalogue: Classifiers, output: str) -> None:
    assert _classify(catalogue, output)[0] == "oom-killed"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            "django.core.exceptions.ImproperlyConfigured: The LEDGER_KEY setting must not be "
            "empty.\n",
            ("missing-env", "LEDGER_KEY"),
        ),
        # Python 2: os.environ is a UserDict, so the frame names UserDict, not environ.
        (
            'File "/usr/lib/python2.7/UserDict.py", line 40, in __getitem__ raise KeyError(key) '
            "KeyError: 'LEDGER_KEY'\n",
            ("missing-env", "LEDGER_KEY"),
        ),
        # A lower-case key from any dict is no variable.
        (
            'File "/usr/lib/python2.7/UserDict.py", line 40, in __getitem__ raise KeyError(key) '
            "KeyError: 'gold'\n",
            ("unclassified", None),
        ),
        (
            "worker-1  | Error:\nworker-1  | Unable to load celery application.\n"
            "worker-1  | The module ledger.jobs was not found.\nworker-1 exited with code 1\n",
            ("import-error", "ledger.jobs"),
        ),
    ],
)
def test_settings_environ_and_celery_as_they_are_spelled_elsewhere(
    catalogue: Classifiers, output: str, expected: tuple[str, str | None]
) -> None:
    assert _classify(catalogue, output) == expected


@pytest.mark.parametrize(
    ("output", "package"),
    [
        (
            "Failed to build ledger-native ledgerkit\nERROR: Failed to build installable wheels "
            "for some pyproject.toml based projects (ledger-native, ledgerkit)\n",
            "ledger-native",
        ),
        (
            "error: failed-wheel-build-for-install\n\n× Failed to build installable wheels for "
            "some pyproject.toml based projects\n╰─> ledger-native, ledgerkit\n",
            "ledger-native",
        ),
        (
            "ERROR: Could not build wheels for ledger.native, which is required to install "
            "pyproject.toml-based projects\n",
            "ledger.native",
        ),
    ],
)
def test_pip_s_summary_of_wheels_it_could_not_build_names_the_package(
    catalogue: Classifiers, output: str, package: str
) -> None:
    assert _classify(catalogue, output) == ("build-failed", package)

from __future__ import annotations

import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.rule import Rule, also_at, reported_once

# The variables Kafka images read the addresses they hand to clients from (Confluent and
# Apache images: KAFKA_*, Bitnami: KAFKA_CFG_*).
_ADVERTISED = ("KAFKA_ADVERTISED_LISTENERS", "KAFKA_CFG_ADVERTISED_LISTENERS")
_LISTENER = re.compile(r"(?P<name>[A-Za-z0-9_]+)://(?P<host>\[[^\]]*\]|[^:,\s]*):(?P<port>\d+)")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _addresses(value: str, hosts: set[str]) -> set[int]:
    """Ports of `host:port` pairs in `value` whose host is one of `hosts`."""
    found: set[int] = set()
    for match in re.finditer(r"(?<![\w.-])([A-Za-z0-9_.-]+):(\d{2,5})\b", value):
        if match.group(1) in hosts:
            found.add(int(match.group(2)))
    return found


class AdvertisedLocalhost(Rule):
    """## What it does
    Flags a Kafka broker whose advertised listener (`KAFKA_ADVERTISED_LISTENERS`,
    `KAFKA_CFG_ADVERTISED_LISTENERS`) gives `localhost` for a port that other services of
    the same compose project connect to by the broker's service name (`kafka:9092` in their
    environment). A broker that advertises `localhost` on a port only the host uses, beside a
    listener with its service name for the containers, is the usual two-listener set-up and
    is not flagged.

    ## Why is this bad?
    A Kafka client uses its bootstrap address once: the broker answers with the advertised
    address, and every later connection goes there. A container told `localhost:9092`
    connects to itself, and producers and consumers fail after the first metadata request
    (`Connection to node 1 (localhost/127.0.0.1:9092) could not be established`).

    ## Example
    ```yaml
    kafka:
      environment:
        KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://localhost:9092
    orders:
      environment:
        KAFKA_BOOTSTRAP_SERVERS: kafka:9092
    ```

    ## How to fix
    Advertise the service name to the containers and `localhost` on a second listener for
    the host:
    ```yaml
    KAFKA_LISTENERS: INTERNAL://0.0.0.0:29092,EXTERNAL://0.0.0.0:9092
    KAFKA_ADVERTISED_LISTENERS: INTERNAL://kafka:29092,EXTERNAL://localhost:9092
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT
    KAFKA_INTER_BROKER_LISTENER_NAME: INTERNAL
    ```
    and give the services `kafka:29092`.
    """

    code = "PORT007"
    name = "advertised-localhost"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for members in platform.services_by_project():
            for broker in members:
                variable = next((broker.env[n] for n in _ADVERTISED if n in broker.env), None)
                if variable is None or not variable.value:
                    continue
                yield from self._judge(broker, variable, members)

    def _judge(
        self, broker: ServiceDef, variable: EnvVar, members: list[ServiceDef]
    ) -> Iterator[Finding]:
        assert variable.value is not None
        local = {
            int(m.group("port")): m.group(0)
            for m in _LISTENER.finditer(variable.value)
            if m.group("host").lower() in _LOOPBACK
        }
        if not local:
            return
        hosts = broker.hostnames
        clients: dict[int, list[tuple[ServiceDef, EnvVar]]] = {}
        for member in members:
            if member is broker:
                continue
            for env in member.env.values():
                for port in _addresses(env.value or "", hosts) & set(local):
                    clients.setdefault(port, []).append((member, env))
        for port, users in sorted(clients.items()):
            names = sorted({s.name for s, _ in users})
            yield self.finding(
                f"{broker.name} advertises {local[port]} ({variable.name}), but "
                f"{', '.join(names)} connect to {broker.name}:{port} from other containers: "
                f"after the first metadata request they connect to their own localhost",
                variable.path,
                variable.line,
                service=broker.name,
                related=also_at(users, lambda env: env.name),
                key=f"{variable.name}:{port}",
            )

from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.commands import entry_point, instruction_command
from passmuster.scanner.context.model import Platform, PortRef, ServiceDef
from passmuster.scanner.rule import Rule, reported_once


class ExposeMismatch(Rule):
    """## What it does
    Flags a Dockerfile whose `EXPOSE` does not include the port the container's command
    listens on (from `--port`/`--bind` of uvicorn, gunicorn, hypercorn or flask, or the
    compose `command:` that replaces the CMD). `EXPOSE` describes the image: where compose
    replaces the command but the image's own command listens on an exposed port (or on a
    port its command does not show), the image is right and PORT002 judges compose's ports.

    ## Why is this bad?
    `EXPOSE` is what readers, `docker run -P` and tooling take as the service's port. When it
    says 8000 and the server listens on 8002, port mappings and health checks are written
    against the wrong port and the service is unreachable (seed log: "Port Conflicts in
    Dockerfiles", 10+ services).

    ## Example
    ```dockerfile
    EXPOSE 8000
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8002"]
    ```

    ## How to fix
    Make them agree: `EXPOSE 8002`, or listen on 8000.
    """

    code = "IMG003"
    name = "expose-mismatch"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.every_service():
            entry = service.entry
            if entry is None or entry.port is None or service.dockerfile is None:
                continue
            exposed = [p for p in service.expose if p.origin == "dockerfile-expose"]
            if not exposed or any(p.port == entry.port for p in exposed):
                continue
            if entry.path != service.dockerfile.path and _image_agrees(service, exposed):
                continue  # compose runs something else; PORT002 judges its ports
            first = exposed[0]
            ports = ", ".join(str(p.port) for p in exposed)
            yield self.finding(
                f"EXPOSE {ports} but the command listens on {entry.port}",
                first.path,
                first.line,
                service=service.name,
                related=[Location(entry.path, entry.line, message=f"listens on {entry.port}")],
                key=f"{ports}->{entry.port}",
            )


def _image_agrees(service: ServiceDef, exposed: list[PortRef]) -> bool:
    """Whether the image's own ENTRYPOINT + CMD listens on an exposed port, or on a port
    its command does not show (`python app.py`)."""
    dockerfile = service.dockerfile
    assert dockerfile is not None
    own = {
        keyword: instruction_command(found, dockerfile.path, "dockerfile")
        for keyword in ("CMD", "ENTRYPOINT")
        if (found := dockerfile.last(keyword)) is not None
    }
    if not own:
        return False
    env = {name: var.value for name, var in service.env.items()}
    image = entry_point(own.get("CMD"), own.get("ENTRYPOINT"), env)
    return (
        image is None
        or (image.port_text is None and image.server == "python")
        or (image.port is not None and any(p.port == image.port for p in exposed))
    )

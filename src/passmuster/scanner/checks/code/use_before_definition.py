from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import release
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.code import owned_python_files
from passmuster.scanner.rule import Rule, reported_once

_WHERE = {
    "decorator": "in a decorator",
    "default": "in a default argument",
    "annotation": "in an annotation",
    "base": "in a class header",
    "statement": "at module level",
}


class UseBeforeDefinition(Rule):
    """## What it does
    Flags a name that module-level code evaluates before the module defines it: in a
    decorator, a default argument (`user=Depends(get_current_user)`), an annotation
    (`Annotated[User, Depends(get_current_user)]`), a class header or a module-level
    statement, when the `def`, `class`, import or assignment of that name comes later in the
    file.

    With `from __future__ import annotations` the annotation is not evaluated at import, so
    there is no error at all: FastAPI cannot resolve the name when the route is registered
    and silently treats the parameter as a query parameter. Those cases are flagged too,
    for functions with a route decorator. In a service whose image runs Python 3.14 or newer,
    annotations are evaluated only when something reads them (PEP 649): a class attribute's
    annotation, or a function's that no route decorator reads, is no error there and is not
    flagged.

    ## Why is this bad?
    The module fails at import with `NameError: name 'get_current_user' is not defined`
    (seed log: 20+ services), or, in the `__future__` case, the endpoint runs without
    authentication and expects a `?user=` query parameter instead.

    ## Example
    ```python
    app = FastAPI()

    @app.get("/me")
    async def me(user: dict = Depends(get_current_user)):
        return user

    async def get_current_user(token: str = Depends(oauth2_scheme)) -> dict:
        ...
    ```

    ## How to fix
    Define (or import) the dependency before the first route that uses it; shared
    dependencies are best kept in their own module (`app/deps.py`) and imported at the top.
    """

    code = "CODE002"
    name = "use-before-definition"
    severity = Severity.CRITICAL
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service, source in owned_python_files(platform):
            module = source.facts
            if module is None:
                continue
            lazy_annotations = _evaluates_annotations_lazily(service.python_version)
            for use in module.early_uses:
                if use.lazy and lazy_annotations:
                    continue
                if use.deferred:
                    message = (
                        f"{use.name} is used in a route's annotation before it is defined "
                        f"(line {use.defined_line}); with `from __future__ import "
                        f"annotations` FastAPI cannot resolve it and treats the parameter "
                        f"as a query parameter"
                    )
                else:
                    message = (
                        f"{use.name} is used {_WHERE[use.where]} before it is defined "
                        f"(line {use.defined_line}): NameError at import"
                    )
                yield self.finding(
                    message,
                    source.path,
                    use.line,
                    column=use.col + 1,
                    service=service.name,
                    related=[Location(source.path, use.defined_line, message="defined here")],
                    key=f"{use.name}:{use.where}",
                )


def _evaluates_annotations_lazily(python: str | None) -> bool:
    """Whether the Python a service runs (`3.14`) evaluates annotations only when read."""
    version = release(python)
    return version is not None and version >= (3, 14)

"""The REST API's routers, one module per resource.

`ROUTERS` lists them in the order the application includes them (a request is matched against
them in that order), each with what the path of every one of its routes starts with under
/api/v1: a router's module is imported when a request could reach it (web/lazy_routes.py).
"""

ROUTERS = (
    ("issues", "/issues"),
    ("services", ""),
    ("scans", "/scans"),
    ("deployments", "/deployments"),
    ("reports", ""),
    ("events", "/events"),
    ("channels", "/channels"),
    ("tokens", "/tokens"),
    ("errors", ""),
    ("maintenance", "/maintenance"),
    ("incident_updates", "/issues/{number}/updates"),
)

"""The platform scanner: discover the services, run the rules, report and record findings.

platform = discover(Path("."), ScanConfig())
services = catalog_services(platform)   # passmuster.core.catalog.Service, for desk/monitor
"""

from __future__ import annotations

from passmuster.scanner.catalog import catalog_services
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context import discover

__all__ = ["ScanConfig", "catalog_services", "discover"]

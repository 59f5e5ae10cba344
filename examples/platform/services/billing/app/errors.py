"""Report this service's exceptions to the platform's error tracker when SENTRY_DSN is set.

Imported first by app/main.py, so even an error while the app itself is imported is reported.
"""

import os

try:
    import sentry_sdk
except ImportError:  # in requirements.shared.txt; a bare interpreter runs without reporting
    sentry_sdk = None

if sentry_sdk is not None and os.environ.get("SENTRY_DSN"):
    sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        release=os.environ.get("SENTRY_RELEASE"),
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
    )

"""Requirements rules (REQ): what services install, across files and services."""

"""Deployments, pure: the rollout plan, attempt records, the `[deploy]` configuration and the
failure classifiers. Running commands and probes lives in `passmuster.deploy`; storing attempts
in `passmuster.storage.deploy_store`."""

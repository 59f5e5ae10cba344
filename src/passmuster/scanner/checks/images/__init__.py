"""Image rules (IMG): Dockerfiles and the commands containers run."""

"""Reference rules (REF): names and paths compose files point at."""

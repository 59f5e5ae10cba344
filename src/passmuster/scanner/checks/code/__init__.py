"""Code rules (CODE): service source read with `ast`, never imported or run."""

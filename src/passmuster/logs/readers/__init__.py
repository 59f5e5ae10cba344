"""One reader per family of log layouts; `passmuster.logs.reader` picks one per file."""

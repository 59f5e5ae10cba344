"""Helpers shared by the rules: pure functions over small parsed inputs.

Nothing here reads the platform by itself; rules hand in what the scan context already parsed,
so each file is read once per scan however many rules look at it.
"""

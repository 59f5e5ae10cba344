"""Port and address rules (PORT): who listens where, and who calls whom at which address."""

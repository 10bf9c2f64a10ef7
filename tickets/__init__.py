"""Resolved tickets: reading help-desk exports and importing them into the service store."""

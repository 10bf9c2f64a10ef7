"""Resolved tickets: reading help-desk exports (``records`` -> ``fields`` -> ``reader``) into the one
``kbsuggest.domain.Ticket`` shape, and importing them into the service database (``importer``, ``store``)."""

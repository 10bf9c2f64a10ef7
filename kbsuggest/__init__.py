"""kbsuggest: suggest the right help article while a customer types, and find the missing ones."""

__version__ = "0.1.0"

"""The few domain errors. Each message quotes the offending value and says what to do.

The CLI prints ``str(error)`` on one line and exits 1; the API turns them into JSON bodies.
"""


class KBSuggestError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class ConfigError(KBSuggestError):
    """A setting or option has a value that cannot work (unknown backend name, bad path)."""


class MissingDependencyError(KBSuggestError):
    """An optional dependency is not installed; the message names the extra to install."""


class ArticleError(KBSuggestError):
    """A Markdown article cannot be parsed; carries the path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotFoundError(KBSuggestError):
    """No index exists at the configured location."""


class IndexCorruptError(KBSuggestError):
    """The index directory exists but its files are missing, unreadable or inconsistent."""


class IndexMismatchError(KBSuggestError):
    """The index was built with another embedding model or dimension than the one configured."""


class InvalidInputError(KBSuggestError):
    """A request value that cannot work (the HTTP edge answers 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidPeriodError(InvalidInputError):
    """A reporting period bound is not a date/time, or ends before it starts; carries the field."""


class StoreUnavailableError(KBSuggestError):
    """The service database cannot be opened, read or written (missing, corrupt, full, read-only)."""


class UnknownKBError(KBSuggestError):
    """No KB of this name is configured or built."""

    def __init__(self, kb: str) -> None:
        super().__init__(f"no knowledge base {kb!r}: build it with `kbsuggest index DIR --kb {kb}` or declare it "
                         f"in the KBs file")
        self.kb = kb


class IndexUnavailableError(KBSuggestError):
    """The KB exists but its index cannot be loaded; the message says why (never a server path)."""


class ArticleConflictError(KBSuggestError):
    """An admin write would change an article other than the one it names."""


class ArticleNotFoundError(KBSuggestError):
    """No article of the KB has this id."""


class SectionNotFoundError(ArticleNotFoundError):
    """The article has no section with this anchor (the HTTP edge answers 404 naming ``section``)."""


class ReindexError(KBSuggestError):
    """A build failed or did not contain the change; the previous index is still serving."""


class InvalidArticleIdError(KBSuggestError):
    """An article id that cannot name a file or a URL path (too long in bytes, bad characters)."""

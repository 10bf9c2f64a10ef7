"""Gap mining: the recurring questions in resolved tickets that no article answers.

An offline job (it may import scikit-learn; the serving path never imports this package):
``tickets`` (a package of its own) imports ticket exports into the service database, ``view`` turns
each one into the redacted text that is mined (``redact`` removes PII before anything is embedded,
clustered or shown), ``coverage`` checks each ticket against the KB through the
``Suggester``, ``cluster`` groups the uncovered ones, ``describe`` labels the groups, ``mine`` runs the
whole job, ``runs`` keeps each run to diff against the next, ``report`` writes HTML/CSV/JSON.
"""

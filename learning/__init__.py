"""Offline learning from a KB's own data.

Calibration: ``coldstart`` (at index time, from the KB's own articles: ``pseudo`` queries, packaged
``offtopic.txt`` negatives, ``fit``) and ``warm`` (``kbsuggest calibrate``, from its labelled history).

An adapted embedding model (``kbsuggest learn``): ``pairs`` turns the service store into redacted (query,
article) pairs, ``split`` holds out the newest 20 % by time, ``negatives`` adds an article shown and not chosen
to each pair, ``train`` fine-tunes the model with sentence-transformers and exports it through the ONNX int8
path, ``heldout`` scores a model on the held-out part, ``decide`` refuses a model that is not better there, and
``job`` runs it all and switches the KB (a reindex) only when it is. PyTorch is imported by ``train`` only,
inside functions; the serving process never loads this package.
"""

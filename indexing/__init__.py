"""Offline indexing: Markdown files -> Articles -> Chunks -> embeddings -> an index directory."""

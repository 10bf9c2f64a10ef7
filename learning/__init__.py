"""Offline learning: a KB's calibration from its own articles (cold start) or its labelled history (warm)."""

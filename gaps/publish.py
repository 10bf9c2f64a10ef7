"""Docs as code: the drafts as files in a folder (``--drafts-to``), or as one commit on a new branch of the
KB's git repository (``--git-branch``).

The branch is made with git plumbing on a temporary index (``hash-object``, ``update-index``,
``write-tree``, ``commit-tree``, ``update-ref``): the working tree, the real index and the checked-out
branch — the one being served — are never touched, and the new branch must not exist yet (``update-ref``
is given the empty old value, so a branch made in between is not overwritten). A pull request is the
author's next step.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from gaps.drafts import MARKER, draft_id, draft_markdown
from gaps.mine import Gap
from kbsuggest.errors import ConfigError


def drafts(gaps: list[Gap], taken: set[str]) -> dict[str, str]:
    """``{file name: Markdown}`` of every gap's draft; ids never collide with the KB's (``taken``) or each other."""
    taken, out = set(taken), {}
    for gap in gaps:
        article_id = draft_id(gap, taken)
        taken.add(article_id)
        out[f"{article_id}.md"] = draft_markdown(gap, article_id)
    return out


def write_drafts(files: dict[str, str], folder: Path) -> tuple[list[Path], list[Path]]:
    """Write the drafts into ``folder``; returns (written, kept): a file there that is not a draft of ours
    is kept as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for name, text in files.items():
        path = folder / name
        if path.exists() and MARKER not in path.read_text(encoding="utf-8", errors="replace"):
            kept.append(path)
            continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written, kept


def _git(repo: Path, *args: str, stdin: str | None = None, env: dict | None = None) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise ConfigError(f"git {args[0]} failed in {str(repo)!r}: {done.stderr.strip().splitlines()[-1:] or ['?']}"[:300])
    return done.stdout.strip()


def commit_drafts(files: dict[str, str], folder: Path, branch: str, message: str) -> tuple[str, str]:
    """Commit ``files`` under ``folder`` (inside a git work tree) on the new ``branch``, from HEAD; returns
    (commit id, the folder's path in the repository)."""
    folder = folder.resolve()
    probe = folder if folder.is_dir() else next((p for p in folder.parents if p.is_dir()), folder)
    try:
        top = Path(_git(probe, "rev-parse", "--show-toplevel"))
    except ConfigError:
        raise ConfigError(f"--git-branch needs --drafts-to inside a git repository; {str(folder)!r} is not in one") from None
    if subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True).returncode != 0:
        raise ConfigError(f"--git-branch {branch!r} is not a valid branch name")
    if subprocess.run(["git", "-C", str(top), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
                      capture_output=True).returncode == 0:
        raise ConfigError(f"branch {branch!r} already exists in {str(top)!r}; choose a new name")
    prefix = folder.relative_to(top.resolve()).as_posix()
    head = _git(top, "rev-parse", "--verify", "HEAD")
    identity = {} if _git_config(top, "user.email") else {
        "GIT_AUTHOR_NAME": "kbsuggest", "GIT_AUTHOR_EMAIL": "kbsuggest@localhost",
        "GIT_COMMITTER_NAME": "kbsuggest", "GIT_COMMITTER_EMAIL": "kbsuggest@localhost"}
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), **identity}
        _git(top, "read-tree", head, env=env)
        for name, text in sorted(files.items()):
            blob = _git(top, "hash-object", "-w", "--stdin", stdin=text)
            path = f"{prefix}/{name}" if prefix not in ("", ".") else name
            _git(top, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = _git(top, "write-tree", env=env)
        commit = _git(top, "commit-tree", tree, "-p", head, "-m", message, env=env)
    _git(top, "update-ref", f"refs/heads/{branch}", commit, "")
    return commit, prefix


def _git_config(repo: Path, key: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "config", key], capture_output=True, text=True)
    return done.stdout.strip()

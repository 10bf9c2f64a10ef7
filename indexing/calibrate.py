"""A new snapshot's calibration: the KB's warm calibration when it has one for this model, else a cold-start
fit on the snapshot itself (``learning/coldstart.py``). Written into the snapshot before its manifest.
``publish_calibration`` is the other way in: ``kbsuggest calibrate`` publishing a warm fit."""

from __future__ import annotations

import shutil
from pathlib import Path

from kbsuggest.config import KBSettings, Settings
from kbsuggest.embed import Embedder, model_file_of
from kbsuggest.index import versions
from kbsuggest.index.format import (SNAPSHOT_FILES, read_manifest, read_warm_calibration, write_calibration,
                                    write_manifest, write_warm_calibration)
from kbsuggest.index.snapshot import load_snapshot
from kbsuggest.index.versions import CACHE, kb_dir
from kbsuggest.rank.calibration import Calibration, packaged_data
from kbsuggest.rank.suggester import Policy, Suggester


def calibrate_snapshot(directory: Path, settings: Settings, embedder: Embedder, kb: KBSettings) -> dict:
    """Write ``directory``'s calibration.json (its manifest is already there); return what the manifest says
    of it."""
    if settings.calibration == "packaged":
        write_calibration(directory, packaged_data())
        return {"source": "packaged default (kbsuggest/rank/calibration.json), KBSUGGEST_CALIBRATION=packaged"}
    warm = read_warm_calibration(kb_dir(settings.index_dir, kb.name))
    if warm is not None and warm.get("model") == embedder.name:
        Calibration.from_dict(warm["calibration"], "the warm calibration")  # checked before it is published
        write_calibration(directory, warm["calibration"])
        return {"source": "warm (kbsuggest calibrate)", **warm.get("how", {})}
    from learning.coldstart import cold_start

    snapshot = load_snapshot(directory, embedder.name, embedder.dim, model_file_of(embedder), kb.name)
    base = Calibration.default()
    calibration, how = cold_start(Suggester(snapshot, embedder, Policy(min_score=0.0), base), base,
                                  cache_dir=Path(settings.index_dir) / CACHE)
    write_calibration(directory, calibration.to_dict(fitted_on=f"cold start of KB {kb.name!r} at index time",
                                                     weights_fitted_on=packaged_data().get("fitted_on", "")))
    return how


def publish_calibration(settings: Settings, kb: str, data: dict, how: dict, model: str) -> str:
    """Store ``data`` as KB ``kb``'s warm calibration (kept by every later reindex with ``model``) and publish
    a new version of its current snapshot that uses it; returns the version's name."""
    root = kb_dir(settings.index_dir, kb)
    with versions.locked(root):
        versions.recover(root)
        current = versions.resolve(root)
        write_warm_calibration(root, {"model": model, "calibration": data, "how": how})
        with versions.staged(root) as staging:
            for name in SNAPSHOT_FILES:
                if (current / name).is_file():
                    shutil.copy2(current / name, staging / name)
            write_calibration(staging, data)
            manifest = read_manifest(staging)
            manifest.calibration = {"source": "warm (kbsuggest calibrate)", **how}
            write_manifest(staging, manifest)
            name = versions.install(root, staging)
        versions.point(root, name)
        versions.recover(root)
    return name

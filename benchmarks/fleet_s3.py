"""The fleet of benchmarks/fleet.py with the index published through an S3-compatible bucket instead of a shared
directory: moto's S3 server on loopback (`moto[server]`), and the builder (`kbsuggest index`) and each replica
with its own, initially empty, index directory (KBSUGGEST_INDEX_URL, kbsuggest/index/remote.py). The KB folder
stays shared, for the admin PUT.

    python benchmarks/fleet_s3.py [--seconds 10] [--typists 4]

tests/test_fleet_s3.py runs the publication checks, shorter, with the hash embedder.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import REPO, Fleet, load_both, publication_under_load, put_visible_elsewhere  # noqa: E402

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


class S3Fleet(Fleet):
    def __init__(self, articles: Path, endpoint: str, bucket: str, embedder: str = "hash") -> None:
        super().__init__(articles, embedder, env={"KBSUGGEST_INDEX_URL": f"s3://{bucket}/fleet",
                                                  "KBSUGGEST_S3_ENDPOINT_URL": endpoint, **CREDENTIALS})
        self.env["KBSUGGEST_INDEX_DIR"] = str(self.dir / "builder")

    def replica_env(self, i: int) -> dict:
        return {**self.env, "KBSUGGEST_INDEX_DIR": str(self.dir / f"replica-{i}")}


@contextmanager
def s3_server():
    """(endpoint, bucket) of a moto S3 server on a free loopback port, with a new bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint, bucket = f"http://{host}:{port}", f"kbs-fleet-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=bucket)
        yield endpoint, bucket
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="Length of the load run.")
    parser.add_argument("--typists", type=int, default=4, help="Unpaced typists per replica.")
    parser.add_argument("--articles", type=Path, default=REPO / "articles", help="The KB folder to serve.")
    args = parser.parse_args()
    with s3_server() as (endpoint, bucket), S3Fleet(args.articles, endpoint, bucket) as fleet:
        figures = {"put_on_a_served_by_b": put_visible_elsewhere(fleet),
                   "publication_under_100_rps": publication_under_load(fleet, settle=3.0),
                   "load_both_replicas": load_both(fleet, args.seconds, args.typists)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

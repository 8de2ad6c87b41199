"""``obrec ship`` against a real S3-compatible store (SeaweedFS on 127.0.0.1): finished hours
uploaded once, resumed after a kill, read back by DuckDB with the numbers ``query`` prints;
status, prune's guard, two databases in one prefix, and the errors a user can meet."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from recorder.binance.market import Market
from recorder.storage.layout import GapRecord
from recorder.storage.shipmarks import read_marks, write_marks
from tests.e2e.conftest import OBREC, assert_one_line_error, obrec
from tests.helpers import duck
from tests.lakedata import HOUR0, make_db
from tests.s3server import SECRET_KEY, S3Server

pytestmark = pytest.mark.e2e
GAP = GapRecord("BTCUSDT", HOUR0 + 3500, HOUR0 + 3700, "disconnect")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db"
    make_db(path, gaps=[GAP])
    return path


def parquet_rows(data: bytes) -> int:
    return int(pq.read_table(io.BytesIO(data)).num_rows)


def test_ship_uploads_each_final_hour_once_with_its_gaps(s3: S3Server, db: Path) -> None:
    bucket = s3.new_root()
    result = obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "shipped 6 hour(s)" in result.stderr
    objects = s3.objects(bucket)
    hours = sorted(p for p in objects if p.endswith("part-0.parquet"))
    assert hours == sorted(
        f"{bucket}/lake/market=spot/symbol={s}/date=2026-01-01/hour={h}/part-0.parquet"
        for s in ("BTCUSDT", "ETHUSDT")
        for h in (12, 13, 14)
    )
    assert (
        sum(parquet_rows(objects[p]) for p in hours) == 6 * 180 - 11
    )  # 11 seconds of the 20 s grid fall in the gap
    # The gap is split at the hour boundary, one record beside each hour it touches.
    gaps = {p: pq.read_table(io.BytesIO(b)).to_pylist() for p, b in objects.items() if "_gaps" in p}
    assert sorted(gaps.values(), key=str) == [
        [{"from_ts": HOUR0 + 3500, "to_ts": HOUR0 + 3599, "reason": "disconnect"}],
        [{"from_ts": HOUR0 + 3600, "to_ts": HOUR0 + 3700, "reason": "disconnect"}],
    ]
    state = orjson.loads(objects[f"{bucket}/lake/_obrec/market=spot/symbol=BTCUSDT.json"])
    assert state["shipped_to_s"] == HOUR0 + 3 * 3600

    again = obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert "shipped 0 hour(s)" in again.stderr
    assert s3.objects(bucket) == objects

    status = obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db), "--status")
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if "BTCUSDT" in x)
    assert "2026-01-01T14:59:59" in line
    assert " 0 " in line


def test_a_futures_database_ships_under_its_market(s3: S3Server, tmp_path: Path) -> None:
    db = tmp_path / "usdm"
    make_db(db, symbols=("BTCUSDT",), hours=1, market=Market.USDM)
    bucket = s3.new_root()
    result = obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db))
    assert result.returncode == 0, result.stderr
    objects = s3.objects(bucket)
    part = f"{bucket}/lake/market=usdm/symbol=BTCUSDT/date=2026-01-01/hour=12/part-0.parquet"
    assert part in objects
    assert f"{bucket}/lake/_obrec/market=usdm/symbol=BTCUSDT.json" in objects
    assert not [p for p in objects if "market=spot" in p]
    metadata = pq.read_schema(io.BytesIO(objects[part])).metadata
    assert metadata[b"obrec.market"] == b"usdm"


def test_duckdb_reads_the_lake_with_the_numbers_query_prints(s3: S3Server, db: Path) -> None:
    bucket = s3.new_root()
    assert obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db)).returncode == 0
    window = (str(HOUR0 + 3000), str(HOUR0 + 4000))
    printed = obrec(
        "query",
        "BTCUSDT",
        "--from",
        window[0],
        "--to",
        window[1],
        "--format",
        "jsonl",
        "--db",
        str(db),
    )
    expected = [orjson.loads(line) for line in printed.stdout.splitlines()]
    assert len(expected) > 20

    import duckdb_extension_httpfs

    extension = next(
        Path(duckdb_extension_httpfs.__file__).parent.glob("**/httpfs.duckdb_extension")
    )
    endpoint = s3.endpoint.removeprefix("http://")
    rows = duck(
        f"LOAD '{extension}'",
        f"CREATE SECRET (TYPE s3, KEY_ID '{s3.env['AWS_ACCESS_KEY_ID']}', "
        f"SECRET '{SECRET_KEY}', ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false, "
        "REGION 'us-east-1')",
        f"""
        SELECT symbol, ts, epoch_ms(event_time), update_id, epoch_ms(recv_time),
               bid_price, bid_qty, ask_price, ask_qty
        FROM read_parquet('s3://{bucket}/lake/**/part-*.parquet', hive_partitioning = true)
        WHERE symbol = 'BTCUSDT' AND ts BETWEEN {window[0]} AND {window[1]}
        ORDER BY ts
        """,
    )

    def text(value: Decimal) -> str:
        return format(value.normalize(), "f")

    got = [
        {
            "symbol": r[0],
            "ts": r[1],
            "event_time": r[2],
            "update_id": r[3],
            "recv_time": r[4],
            "bids": [[text(p), text(q)] for p, q in zip(r[5], r[6], strict=True)],
            "asks": [[text(p), text(q)] for p, q in zip(r[7], r[8], strict=True)],
        }
        for r in rows
    ]
    assert got == expected


def test_a_killed_ship_resumes_with_nothing_missing_or_twice(s3: S3Server, tmp_path: Path) -> None:
    path = tmp_path / "db"
    make_db(path, symbols=("BTCUSDT",), hours=24)
    reference, bucket = s3.new_root(), s3.new_root()
    assert obrec("ship", "--to", f"s3://{reference}/lake", "--db", str(path)).returncode == 0

    process = subprocess.Popen(
        [*OBREC, "ship", "--to", f"s3://{bucket}/lake", "--db", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.endswith(".json") for p in s3.objects(bucket)):
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = s3.objects(bucket)
    # Whatever is visible is whole: every Parquet object reads.
    for name, data in partial.items():
        if name.endswith(".parquet"):
            assert parquet_rows(data) > 0
    assert len(partial) < len(s3.objects(reference)), "the kill came too late to test resuming"

    resumed = obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(path))
    assert resumed.returncode == 0, resumed.stderr
    strip = len(bucket)
    assert {k[strip:]: v for k, v in s3.objects(bucket).items()} == {
        k[len(reference) :]: v for k, v in s3.objects(reference).items()
    }


def test_prune_keeps_what_is_not_shipped_unless_told(s3: S3Server, db: Path) -> None:
    bucket = s3.new_root()
    to = f"s3://{bucket}/lake"
    assert obrec("ship", "--to", to, "--db", str(db), "--symbols", "BTCUSDT").returncode == 0
    # BTCUSDT is shipped whole, ETHUSDT was never taken on by a ship: both prune as before.
    before = str(HOUR0 + 3 * 3600)
    dry = obrec("prune", "--before", before, "--db", str(db), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "BTCUSDT 529" in dry.stdout  # 540 every 20 s less the 11 in the gap
    assert "ETHUSDT 540" in dry.stdout  # not taken on by any ship: prune as before

    # A database whose ship reached 13:00 and no further (its store went away, say).
    db2 = db.with_name("db2")
    make_db(db2)
    write_marks(db2, f"s3://{bucket}/other", {"BTCUSDT": HOUR0 + 3600})
    kept = obrec("prune", "--before", before, "--db", str(db2))
    assert kept.returncode == 0, kept.stderr
    assert "BTCUSDT 180" in kept.stdout
    assert "kept BTCUSDT from 2026-01-01T13:00:00" in kept.stderr
    forced = obrec("prune", "--before", before, "--db", str(db2), "--unshipped")
    assert forced.returncode == 0, forced.stderr
    assert "BTCUSDT 360" in forced.stdout


def test_two_databases_share_a_prefix_only_with_disjoint_symbols(
    s3: S3Server, tmp_path: Path
) -> None:
    bucket = s3.new_root()
    majors, alts, again = tmp_path / "majors", tmp_path / "alts", tmp_path / "again"
    make_db(majors, symbols=("BTCUSDT",), hours=1)
    make_db(alts, symbols=("SOLUSDT",), hours=1)
    make_db(again, symbols=("BTCUSDT", "XRPUSDT"), hours=1)
    to = f"s3://{bucket}/lake"
    assert obrec("ship", "--to", to, "--db", str(majors)).returncode == 0
    assert obrec("ship", "--to", to, "--db", str(alts)).returncode == 0
    before = s3.objects(bucket)
    assert {p.split("/")[4] for p in before if p.endswith(".parquet")} == {
        "symbol=BTCUSDT",
        "symbol=SOLUSDT",
    }
    refused = obrec("ship", "--to", to, "--db", str(again))
    assert_one_line_error(refused, 2, "BTCUSDT is shipped here by", str(majors))
    assert s3.objects(bucket) == before
    assert read_marks(again) == {}, "a refused target does not hold prune back"


def test_wrong_credentials_and_a_missing_bucket_are_one_line_errors(
    s3: S3Server, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.new_root()
    missing = obrec("ship", "--to", "s3://no-such-bucket/lake", "--db", str(db))
    assert_one_line_error(missing, 2, "no-such-bucket", "does not exist")

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-never-shown")
    refused = obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db))
    assert_one_line_error(refused, 2, "refused our credentials", "AWS_SECRET_ACCESS_KEY")
    assert "wrong-secret-never-shown" not in refused.stderr + refused.stdout

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    in_url = obrec("ship", "--to", f"s3://key:{SECRET_KEY}@{bucket}/lake", "--db", str(db))
    assert_one_line_error(in_url, 2, "must not hold credentials")
    assert SECRET_KEY not in in_url.stderr
    assert s3.objects(bucket) == {}
    # Nothing changed locally either: a mistaken target does not hold prune back forever.
    assert read_marks(db) == {}
    assert obrec("stats", "--db", str(db)).returncode == 0


def test_config_show_and_help_hold_no_credential(s3: S3Server) -> None:
    shown = obrec("config", "show")
    assert SECRET_KEY not in shown.stdout + shown.stderr
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET_KEY


def test_the_python_api_opens_a_lake_like_a_database(s3: S3Server, tmp_path: Path) -> None:
    from recorder.lake import Lake
    from recorder.read import Database

    bucket = s3.new_root()
    majors, alts = tmp_path / "majors", tmp_path / "alts"
    make_db(majors, symbols=("BTCUSDT",), gaps=[GAP])
    make_db(alts, symbols=("SOLUSDT",))
    for db in (majors, alts):
        assert obrec("ship", "--to", f"s3://{bucket}/lake", "--db", str(db)).returncode == 0
    window = (HOUR0 + 3000, HOUR0 + 7300)  # across three hours
    with Lake.open(f"s3://{bucket}/lake") as lake:
        assert lake.symbols() == ["BTCUSDT", "SOLUSDT"]
        assert lake.hours("SOLUSDT") == [HOUR0, HOUR0 + 3600, HOUR0 + 7200]
        for db, symbol in ((majors, "BTCUSDT"), (alts, "SOLUSDT")):
            with Database.open(db) as database:
                assert list(lake.snapshots(symbol, *window)) == list(
                    database.snapshots(symbol, *window)
                )
                assert lake.to_arrow([symbol], *window).equals(database.to_arrow([symbol], *window))
        assert lake.gaps("BTCUSDT") == [
            GapRecord("BTCUSDT", HOUR0 + 3500, HOUR0 + 3599, "disconnect"),
            GapRecord("BTCUSDT", HOUR0 + 3600, HOUR0 + 3700, "disconnect"),
        ]


def test_force_reships_each_hour_whole(s3: S3Server, db: Path) -> None:
    bucket = s3.new_root()
    to = f"s3://{bucket}/lake"
    assert obrec("ship", "--to", to, "--db", str(db)).returncode == 0
    shipped = s3.objects(bucket)
    hour = f"{bucket}/lake/market=spot/symbol=ETHUSDT/date=2026-01-01/hour=12"
    fs = s3.filesystem()
    for name, junk in (("part-0.parquet", b"damaged"), ("_gaps.parquet", b"stale")):
        with fs.open_output_stream(f"{hour}/{name}") as out:
            out.write(junk)
    assert obrec("ship", "--to", to, "--db", str(db)).returncode == 0
    assert s3.objects(bucket)[f"{hour}/part-0.parquet"] == b"damaged", "shipped hours stay"

    forced = obrec("ship", "--to", to, "--db", str(db), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "shipped 6 hour(s)" in forced.stderr
    assert s3.objects(bucket) == shipped


def test_pyarrow_and_polars_read_the_lake_in_place(s3: S3Server, db: Path) -> None:
    """The snippets of docs/lake.md, against the real store."""
    import polars as pl
    import pyarrow.dataset as ds
    from pyarrow import fs

    bucket = s3.new_root()
    assert obrec("ship", "--to", f"s3://{bucket}/obrec", "--db", str(db)).returncode == 0
    lake = ds.dataset(
        f"{bucket}/obrec",
        filesystem=fs.S3FileSystem(endpoint_override=s3.endpoint),
        format="parquet",
        partitioning="hive",
    )
    table = lake.to_table(filter=(ds.field("symbol") == "ETHUSDT") & (ds.field("hour") == 13))
    assert table.num_rows == 180
    frame = (
        pl.scan_parquet(
            f"s3://{bucket}/obrec/**/part-*.parquet",
            hive_partitioning=True,
            storage_options={
                "aws_region": "us-east-1",
                "aws_endpoint_url": s3.endpoint,
                "aws_allow_http": "true",
            },
        )
        .filter(pl.col("symbol") == "BTCUSDT", pl.col("date") == pl.date(2026, 1, 1))
        .collect()
    )
    assert frame.height == 3 * 180 - 11
    assert set(frame["hour"].to_list()) == {12, 13, 14}


def test_a_lake_url_that_is_not_s3_names_its_own_flag(tmp_path: Path) -> None:
    """No store needed: the URL is checked before anything starts or connects."""
    shipped = obrec("ship", "--to", "http://bucket/x", "--db", str(tmp_path / "db"))
    assert_one_line_error(shipped, 2, "--to 'http://bucket/x' is not an S3 URL")
    recorded = obrec(
        "record", "--symbols", "BTCUSDT", "--db", str(tmp_path / "db"), "--ship-to", "bucket/x"
    )
    assert_one_line_error(recorded, 2, "--ship-to 'bucket/x' is not an S3 URL")
    assert not (tmp_path / "db").exists()

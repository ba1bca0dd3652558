"""The installed wheel as a Python user meets it: the fixture with the official client, its
options, the factory, stopping by PID, a failed start, and the installed `influx-conformance run`
from a directory that is not the repository.

Run from an environment the wheel is installed in (CI: a fresh venv with no Rust on PATH, see
python/ci.sh): `pytest python/tests`. Needs influxdb-client==1.50.0.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

import influx_conformance
from influx_conformance import ReferenceError, start_reference


def client_for(server):
    return InfluxDBClient(url=server.url, token=server.token, org=server.org)


def test_write_then_read_back(influxdb_reference):
    with client_for(influxdb_reference) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            influxdb_reference.bucket,
            record=[
                Point("cpu").tag("host", "a").field("usage", 0.5).time(1700000000, "s"),
                Point("cpu").tag("host", "b").field("usage", 0.25).time(1700000001, "s"),
            ],
        )
        tables = client.query_api().query(
            f'from(bucket: "{influxdb_reference.bucket}") |> range(start: 0) '
            '|> filter(fn: (r) => r._measurement == "cpu")'
        )
    rows = sorted((r.values["host"], r.get_value(), r.get_time().timestamp()) for t in tables for r in t.records)
    assert rows == [("a", 0.5, 1700000000.0), ("b", 0.25, 1700000001.0)]


def test_a_type_conflict_is_a_422_with_influxdbs_message(influxdb_reference):
    with client_for(influxdb_reference) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        write.write(influxdb_reference.bucket, record="m v=1 1")
        with pytest.raises(ApiException) as raised:
            write.write(influxdb_reference.bucket, record='m v="s" 2')
    assert raised.value.status == 422
    assert json.loads(raised.value.body) == {
        "code": "unprocessable entity",
        "message": 'failure writing points to database: partial write: field type conflict: '
        'input field "v" on measurement "m" is type string, already exists as type float dropped=1',
    }


def test_each_test_gets_an_empty_store(influxdb_reference):
    # The two tests above wrote into a server of their own; this one sees nothing.
    with client_for(influxdb_reference) as client:
        tables = client.query_api().query(f'from(bucket: "{influxdb_reference.bucket}") |> range(start: 0)')
    assert tables == []


@pytest.mark.influxdb_reference(org="acme", bucket="metrics", token="secret-token", retention="1h")
def test_marker_options_make_the_tenant(influxdb_reference):
    assert (influxdb_reference.org, influxdb_reference.bucket, influxdb_reference.token) == (
        "acme",
        "metrics",
        "secret-token",
    )
    with client_for(influxdb_reference) as client:
        bucket = client.buckets_api().find_bucket_by_name("metrics")
        assert [r.every_seconds for r in bucket.retention_rules] == [3600]
        assert client.organizations_api().find_organizations(org="acme")[0].name == "acme"


@pytest.mark.parametrize("influxdb_reference", [{"flavor": "v2"}, {"flavor": "cloud", "apply_delay": "0s"}], indirect=True)
def test_indirect_parameters_pick_the_flavor(influxdb_reference):
    with client_for(influxdb_reference) as client:
        build = client.build()
    assert build == {"v2": "OSS", "cloud": "Cloud"}[influxdb_reference.flavor]


def test_no_setup_leaves_onboarding_to_the_client(influxdb_reference_factory):
    server = influxdb_reference_factory(no_setup=True)
    with InfluxDBClient(url=server.url, token="none") as client:
        from influxdb_client.service.setup_service import SetupService

        assert SetupService(client.api_client).get_setup().allowed is True


def test_servers_are_stopped_by_pid(influxdb_reference_factory):
    a = influxdb_reference_factory()
    b = influxdb_reference_factory(flavor="cloud")
    assert a.url != b.url and a.pid != b.pid
    a.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(a.pid, 0)
    os.kill(b.pid, 0)  # the other still runs until the test ends


def test_a_bad_option_is_a_clear_error():
    with pytest.raises(ReferenceError, match="invalid value 'nope' for '--flavor"):
        start_reference(flavor="nope")


def test_the_binaries_and_data_are_the_installed_ones():
    assert Path(influx_conformance.__file__).resolve().is_relative_to(Path(sys.prefix).resolve())
    for name in ("influx-reference", "influx-conformance"):
        exe = influx_conformance.executable(name)
        assert exe.is_file() and os.access(exe, os.X_OK), exe
        assert shutil.which(name) is not None, f"{name} is not on PATH"
    data = influx_conformance.data_dir()
    assert data is not None and (data / "cases" / "v2").is_dir() and (data / "snapshots").is_dir()


def test_the_suite_runs_from_any_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUX_CONFORMANCE_")}
    report = tmp_path / "report.json"
    done = subprocess.run(
        ["influx-conformance", "run", "--report-json", str(report)], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    listed = subprocess.run(["influx-conformance", "list"], cwd=tmp_path, capture_output=True, text=True, env=env, check=True)
    assert not (tmp_path / "cases").exists(), "it must not need ./cases"
    summary = json.loads(report.read_text())["summary"]
    # The whole installed corpus ran (every case under each of its profiles, as `list` shows
    # them) and passed against the installed snapshots.
    assert summary["executed"] == len(listed.stdout.splitlines()) > 0, summary
    assert summary["passed"] == summary["executed"], summary

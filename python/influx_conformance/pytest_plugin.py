"""The pytest plugin (entry point ``pytest11``): a fresh InfluxDB reference server per test.

``influxdb_reference`` starts ``influx-reference serve`` on a free loopback port, waits for its
``listening on`` line, yields a :class:`~influx_conformance.ReferenceServer` (``url``, ``token``,
``org``, ``bucket``, ...) and stops it by PID after the test::

    def test_write(influxdb_reference):
        with InfluxDBClient(url=influxdb_reference.url, token=influxdb_reference.token,
                            org=influxdb_reference.org) as client:
            ...

Options (``flavor``, ``org``, ``bucket``, ``token``, ``retention`` and every other ``serve``
flag, ``no_setup=True`` for ``--no-setup``) come from a marker, closest wins::

    @pytest.mark.influxdb_reference(flavor="cloud", plan="usage-based", apply_delay="0s")

or from indirect parametrization::

    @pytest.mark.parametrize("influxdb_reference", [{"flavor": "v2"}, {"flavor": "cloud"}],
                             indirect=True)

There is no reset fixture: the store is in memory and a server starts in a few milliseconds
(the README gives the measured figure), so each test gets a new process, which is the cleanest
reset there is. ``influxdb_reference_factory`` starts more servers, or servers with options
decided inside the test. ``--influxdb-reference-bin PATH`` (or ``INFLUX_REFERENCE_BIN``) uses
another binary, e.g. one built with ``cargo build``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List

import pytest

from . import ReferenceServer, start_reference

MARKER = "influxdb_reference"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("influxdb_reference", "InfluxDB reference server (influx-conformance)")
    group.addoption(
        "--influxdb-reference-bin",
        default=None,
        metavar="PATH",
        help="the influx-reference binary the fixtures start "
        "(default: INFLUX_REFERENCE_BIN, else the one installed with this package)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options of the influxdb_reference fixture's server: flavor, "
        "org, bucket, token, retention and any other `influx-reference serve` flag "
        "(retention='1h' is --retention 1h, no_setup=True is --no-setup)",
    )


def _options(request: pytest.FixtureRequest) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    # iter_markers yields the closest first (function, then class, then module): apply the
    # farthest first so the closest wins.
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER} takes keyword options only, got {marker.args!r}"
            )
        options.update(marker.kwargs)
    param = getattr(request, "param", None)
    if param is not None:
        if not isinstance(param, dict):
            raise pytest.UsageError(
                f"influxdb_reference parameters are dicts of options, got {param!r}"
            )
        options.update(param)
    binary = request.config.getoption("influxdb_reference_bin")
    if binary and "binary" not in options:
        options["binary"] = binary
    return options


@pytest.fixture
def influxdb_reference_factory(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., ReferenceServer]]:
    """Starts reference servers with the given options; all are stopped after the test."""
    started: List[ReferenceServer] = []
    binary = request.config.getoption("influxdb_reference_bin")

    def start(**options: Any) -> ReferenceServer:
        if binary and "binary" not in options:
            options["binary"] = binary
        server = start_reference(**options)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def influxdb_reference(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    """A fresh in-memory reference server for this test (options: marker or indirect param)."""
    server = start_reference(**_options(request))
    try:
        yield server
    finally:
        server.stop()

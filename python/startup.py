"""Measures what the influxdb_reference fixture costs a test: start (spawn, wait for `listening
on`) and stop (SIGTERM by PID, wait for exit) of the installed influx-reference, N times.

    python python/startup.py [N]

Prints the median and the slowest of each. A measurement, not a test: nothing here fails on time.
"""

import statistics
import sys
import time

from influx_conformance import executable, start_reference


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    starts, stops = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        server = start_reference()
        t1 = time.perf_counter()
        server.stop()
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        stops.append(t2 - t1)
    ms = lambda xs: f"median {statistics.median(xs) * 1e3:.1f} ms, slowest {max(xs) * 1e3:.1f} ms"
    print(f"{executable()} x{n}: start {ms(starts)}; stop {ms(stops)}")


if __name__ == "__main__":
    main()

"""The official Python client (influxdb-client 1.50.0) against the reference server.

Onboards through the setup API, creates a bucket, writes every field type, escaped tags and
each precision with the synchronous WriteApi, reads back through query_api (tables, CSV, and a
DataFrame when pandas is installed), deletes, lists buckets, and checks health and ping. Every
check asserts values; each prints one line.
"""

import sys
from datetime import datetime, timezone

from influxdb_client import BucketRetentionRules, InfluxDBClient, OnboardingRequest, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from influxdb_client.service.setup_service import SetupService

url = sys.argv[1]
checks = 0


def check(name, cond, detail=""):
    global checks
    if not cond:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    checks += 1
    print(f"ok   {name}")


# Onboarding through the client's setup service.
with InfluxDBClient(url=url, token="unused") as anon:
    setup = SetupService(anon.api_client)
    check("setup allowed before onboarding", setup.get_setup().allowed is True)
    resp = setup.post_setup(OnboardingRequest(username="py-user", password="py-password", org="py-org", bucket="py-bucket", token="py-token"))
    check("setup returns the preset token", resp.auth.token == "py-token", resp.auth.token)
    check("setup allowed is false afterwards", setup.get_setup().allowed is False)

client = InfluxDBClient(url=url, token="py-token", org="py-org")
check("ping", client.ping() is True)
check("health passes", client.health().status == "pass")
check("version header", client.version() == "v2.7.12", client.version())
check("build header", client.build() == "OSS", client.build())

buckets = client.buckets_api()
org_id = client.organizations_api().find_organizations(org="py-org")[0].id
bucket = buckets.create_bucket(bucket_name="clients", org_id=org_id, retention_rules=BucketRetentionRules(type="expire", every_seconds=0))
check("bucket created", bucket.name == "clients" and len(bucket.id) == 16, bucket)
names = sorted(b.name for b in buckets.find_buckets().buckets)
check("bucket list includes system buckets", names == ["_monitoring", "_tasks", "clients", "py-bucket"], names)

write = client.write_api(write_options=SYNCHRONOUS)
t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
points = [
    Point("all types").tag("host name", "a,b=c").field("f", 1.5).field("i", -3).field("s", 'say "hi"\\ok').field("b", True).time(1704067200, WritePrecision.S),
]
write.write(bucket="clients", record=points, write_precision=WritePrecision.S)
write.write(bucket="clients", record="prec v=1u 1704067201000", write_precision=WritePrecision.MS)
write.write(bucket="clients", record="prec v=2u 1704067202000000", write_precision=WritePrecision.US)
write.write(bucket="clients", record="prec v=3u 1704067203000000000", write_precision=WritePrecision.NS)
write.write(bucket="clients", record="prec v=4u 1704067204", write_precision=WritePrecision.S)

query = client.query_api()
flux = 'from(bucket: "clients") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-02T00:00:00Z)'
tables = query.query(flux + ' |> filter(fn: (r) => r._measurement == "all types")')
values = {r.get_field(): r.get_value() for t in tables for r in t.records}
check("every field type reads back", values == {"f": 1.5, "i": -3, "s": 'say "hi"\\ok', "b": True}, values)
record = tables[0].records[0]
check("escaped tag key and value", record.values.get("host name") == "a,b=c", record.values)
check("timestamp", record.get_time() == t0, record.get_time())

prec = query.query(flux + ' |> filter(fn: (r) => r._measurement == "prec")')
times = [r.get_time().timestamp() for t in prec for r in t.records]
check("each precision lands on the right second", times == [1704067201.0, 1704067202.0, 1704067203.0, 1704067204.0], times)
check("unsigned values", [r.get_value() for t in prec for r in t.records] == [1, 2, 3, 4])

rows = list(query.query_csv(flux + ' |> filter(fn: (r) => r._measurement == "prec") |> count()'))
header = next(r for r in rows if r and r[0] == "" and r[1] == "result")
data = [r for r in rows if r and r[0] == "" and r[1] != "result"]
# A bare count over a storage read is done by storage (2.7's PushDownBareAggregateRule), whose
# layout puts _value before the tags: find it by name.
check("query_csv with annotations", rows[0][0] == "#datatype" and data[0][header.index("_value")] == "4", rows)

try:
    import pandas  # noqa: F401

    df = query.query_data_frame(flux + ' |> filter(fn: (r) => r._measurement == "prec")')
    check("query_data_frame", list(df["_value"]) == [1, 2, 3, 4], df)
except ImportError:
    print("skip query_data_frame: pandas is not installed")

client.delete_api().delete("2024-01-01T00:00:02Z", "2024-01-01T00:00:03Z", '_measurement="prec"', bucket="clients", org="py-org")
left = [r.get_value() for t in query.query(flux + ' |> filter(fn: (r) => r._measurement == "prec")') for r in t.records]
check("delete removed the inclusive range", left == [1, 4], left)

try:
    write.write(bucket="clients", record="prec v=1.5 1704067204", write_precision=WritePrecision.S)
    check("type conflict raises", False, "no exception")
except ApiException as e:
    check("type conflict is 422 with InfluxDB's message", e.status == 422 and "field type conflict" in e.body, (e.status, e.body))

try:
    write.write(bucket="clients", record="bad", write_precision=WritePrecision.S)
    check("parse error raises", False, "no exception")
except ApiException as e:
    check("parse error is 400", e.status == 400 and "unable to parse 'bad': missing fields" in e.body, e.body)

client.close()
print(f"python influxdb-client: {checks} passed, 0 failed")

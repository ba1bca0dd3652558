"""Stand-in for the client's `tests/base_test.py`, which the influxdb-client 1.50.0 sdist does not
ship (its tests import it). Written for this repository against the names the tests use:
`BaseTest` (a unittest.TestCase with a client per test on INFLUXDB_V2_URL / _TOKEN / _ORG),
`generate_name`, `generate_bucket_name` and `current_milli_time`. suite.sh copies it into the
unpacked sdist's `tests/` directory.
"""

import datetime
import os
import re
import time
import unittest

from influxdb_client import BucketRetentionRules, InfluxDBClient, Organization


def current_milli_time():
    return int(round(time.time() * 1000))


def generate_name(key: str):
    # Unique per call: the tests create buckets, orgs and tokens with these names on one server.
    return f"test_{key}_{datetime.datetime.now().timestamp()}_IT"


def generate_bucket_name():
    return generate_name(key="bucket")


class BaseTest(unittest.TestCase):
    def setUp(self) -> None:
        self.host = os.getenv("INFLUXDB_V2_URL", "http://localhost:8086")
        self.auth_token = os.getenv("INFLUXDB_V2_TOKEN", "my-token")
        self.org = os.getenv("INFLUXDB_V2_ORG", "my-org")
        self.debug = False
        self.client = InfluxDBClient(url=self.host, token=self.auth_token, org=self.org, debug=self.debug)
        self.api_client = self.client.api_client
        self.query_api = self.client.query_api()
        self.buckets_api = self.client.buckets_api()
        self.users_api = self.client.users_api()
        self.organizations_api = self.client.organizations_api()
        self.authorizations_api = self.client.authorizations_api()
        self.labels_api = self.client.labels_api()
        self.my_organization = self.find_my_org()

    def tearDown(self) -> None:
        self.client.close()

    def find_my_org(self) -> Organization:
        return self.organizations_api.find_organizations(org=self.org)[0]

    def create_test_bucket(self):
        name = generate_bucket_name()
        return self.buckets_api.create_bucket(bucket_name=name, org=self.my_organization, description=name + "description")

    def delete_test_bucket(self, bucket):
        return self.buckets_api.delete_bucket(bucket)

    @staticmethod
    def log(args):
        print(">>>", args)

    @staticmethod
    def generate_name(prefix):
        return f"{prefix}{datetime.datetime.now().timestamp()}-IT"

    @classmethod
    def retention_rule(cls) -> BucketRetentionRules:
        return BucketRetentionRules(type="expire", every_seconds=3600)

    def assertEqualIgnoringWhitespace(self, first, second, msg=None) -> None:
        ws = re.compile(r"\s+")
        self.assertEqual(ws.sub("", first), ws.sub("", second), msg=msg)

"""Production backends for the end-to-end servers (STARLING_E2E_BACKENDS=production).

scripts/test.sh's `e2e-production` section starts the servers this needs on loopback and names
them in the environment:

    STARLING_E2E_DYNAMODB    moto_server, serialised (scripts/moto-serial.py): the store
    STARLING_E2E_AWS         moto_server: S3 media, Kinesis events, SNS push
    STARLING_E2E_REDIS       redis://127.0.0.1:PORT of a redis-server with many databases
    STARLING_E2E_PG          postgres://user@127.0.0.1:PORT/db (scripts/pg-test.sh): analytics,
    STARLING_E2E_PG_CA       over TLS with this CA's certificate
    STARLING_E2E_OPENSEARCH  the recorded-contract fake OpenSearch (no OpenSearch server runs here)

moto is an emulator of the AWS wire protocol, not AWS. Every server gets its own table, bucket,
stream, topic, Redis database, PostgreSQL database and index prefix, named after its data
directory, so a restart on the same directory finds its data again, as a real deployment would,
and tests never see each other's users or posts.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ACCESS_KEY, SECRET_KEY, REGION = "testing", "testing", "us-east-1"

_names: dict[Path, str] = {}
_env: dict[str, dict[str, str]] = {}


def enabled() -> bool:
    return os.environ.get("STARLING_E2E_BACKENDS") == "production"


def settings(data_dir: Path) -> dict[str, str]:
    """The STARLING__* variables pointing a server on `data_dir` at its own resources,
    creating them the first time."""
    data_dir = data_dir.resolve()
    if data_dir not in _names:
        _names[data_dir] = f"e2e{os.getpid() % 100000}-{len(_names) + 1}"
    name = _names[data_dir]
    if name not in _env:
        _env[name] = _provision(name, redis_db=len(_env) + 1)
    return _env[name]


def _aws(service: str, endpoint: str):
    import boto3  # installed with moto[server]

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def _provision(name: str, redis_db: int) -> dict[str, str]:
    dynamodb, aws = os.environ["STARLING_E2E_DYNAMODB"], os.environ["STARLING_E2E_AWS"]
    _aws("s3", aws).create_bucket(Bucket=name)
    kinesis = _aws("kinesis", aws)
    kinesis.create_stream(StreamName=name, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    topic = _aws("sns", aws).create_topic(Name=name)["TopicArn"]

    pg = urlsplit(os.environ["STARLING_E2E_PG"])
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.hostname, "-p", str(pg.port), "-U", pg.username or "postgres", "-d", pg.path.lstrip("/"), "-c", f'CREATE DATABASE "{name}"'],
        check=True, stdout=subprocess.DEVNULL,
    )
    analytics = urlunsplit(pg._replace(path=f"/{name}"))

    keys = {"ACCESS_KEY_ID": ACCESS_KEY, "SECRET_ACCESS_KEY": SECRET_KEY, "REGION": REGION}
    env = {
        "STARLING__STORE__TYPE": "dynamodb",
        "STARLING__STORE__TABLE": name,
        "STARLING__STORE__ENDPOINT": dynamodb,
        "STARLING__STORE__CREATE_TABLE": "true",
        # The outbox split like infra/'s (each account's events in its partition, one relay
        # per partition).
        "STARLING__STORE__LOG_PARTITIONS": "8",
        "STARLING__CACHE__TYPE": "redis",
        "STARLING__RATE_LIMIT_STORE__TYPE": "redis",
        "STARLING__REDIS__URL": f"{os.environ['STARLING_E2E_REDIS'].rstrip('/')}/{redis_db}",
        "STARLING__MEDIA_STORE__TYPE": "s3",
        "STARLING__MEDIA_STORE__BUCKET": name,
        "STARLING__MEDIA_STORE__ENDPOINT": aws,
        "STARLING__SEARCH__TYPE": "opensearch",
        "STARLING__SEARCH__URL": os.environ["STARLING_E2E_OPENSEARCH"],
        "STARLING__SEARCH__INDEX_PREFIX": f"{name}-",
        "STARLING__EVENTS__TYPE": "kinesis",
        "STARLING__EVENTS__STREAM": name,
        "STARLING__EVENTS__ENDPOINT": aws,
        # Shard leases lapse 10 s after a SIGKILLed server's last renewal (default 30 s).
        "STARLING__EVENTS__LEASE_SECS": "10",
        "STARLING__ANALYTICS__TYPE": "redshift",
        "STARLING__ANALYTICS__URL": analytics,
        "STARLING__ANALYTICS__CA_FILE": os.environ["STARLING_E2E_PG_CA"],
        "STARLING__PUSH__TYPE": "sns",
        "STARLING__PUSH__TOPIC_ARN": topic,
        "STARLING__PUSH__ENDPOINT": aws,
        "STARLING__PUSH__VAPID_PUBLIC_KEY": "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U",
    }
    for section in ("STORE", "MEDIA_STORE", "EVENTS", "PUSH"):
        env.update({f"STARLING__{section}__{key}": value for key, value in keys.items()})
    return env

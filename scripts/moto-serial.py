"""moto_server with every request handled one at a time.

moto (an emulator of the AWS wire protocol) applies a DynamoDB TransactWriteItems by
deep-copying the table, writing item by item and, when a condition fails, putting the copy
back. Under moto_server's threads that is not atomic: a cancelled transaction can restore a
copy taken while another request was half-way, resurrecting or losing writes. DynamoDB itself
is serialisable, so the tests serialise moto's requests to get the semantics they test.

    python scripts/moto-serial.py [-H 127.0.0.1] [-p 5000]
"""

import argparse
import copy
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


class _CopyOnce:
    """The `copy` module as moto's DynamoDB backend sees it during one TransactWriteItems: a
    table is deep-copied (its rollback backup) once per transaction, not once per item."""

    def __init__(self) -> None:
        self.tables: dict[int, object] = {}

    def deepcopy(self, obj, memo=None):
        from moto.dynamodb.models.table import Table

        if not isinstance(obj, Table):
            return copy.deepcopy(obj, memo)
        if id(obj) not in self.tables:
            self.tables[id(obj)] = copy.deepcopy(obj, memo)
        return self.tables[id(obj)]

    def __getattr__(self, name: str):
        return getattr(copy, name)


def copy_each_table_once() -> None:
    """moto backs up every table a transaction names before applying it, but copies the whole
    table again for each of the transaction's items (up to 100): on a table of a few thousand
    items that copying is most of what a test's transactions cost. The backups are all taken
    before anything is written, so one copy per table is the same backup. Safe here because
    requests are handled one at a time."""
    import moto.dynamodb.models as backend

    transact = backend.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        backend.copy = _CopyOnce()
        try:
            return transact(self, transact_items)
        finally:
            backend.copy = copy

    backend.DynamoDBBackend.transact_write_items = transact_write_items


def query_reads_one_partition() -> None:
    """moto answers a Query on the table's own key by sorting every item of the table and then
    keeping the partition's: on a test's table that sort was a seventh of moto's time. A Query
    names one partition, so it is given that partition's items alone (moto sorts those by range
    key itself, as before). Index queries, which Starling does not make, keep moto's path."""
    from moto.dynamodb.models.table import Table

    query = Table.query

    def partition_query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")  # moto passes it 7th
        if index_name is not None or not self.range_key_attr or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # shadows the method for this one call
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query


def cache_per_request_lookups() -> None:
    """Two lookups moto makes for every request whose answers never change while it runs: the
    list of its service modules (a directory listing and a stat per module, a quarter of its
    time) and the method names of the responding class (`inspect.getmembers`)."""
    import functools

    import moto.backends as backends
    import moto.core.responses as responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


def item_results_as_json() -> None:
    """moto serialises every answer by walking botocore's model of the operation, a fifth of its
    time here. The item operations' results (`DynamoResult`, already plain dicts in DynamoDB's
    JSON, binary values as bytes) are written with moto's own DynamoDB JSON encoder instead,
    which base64-encodes bytes as the model walk does. Other operations keep the model walk."""
    import json

    from moto.dynamodb import responses
    from moto.dynamodb.models.utilities import DynamoJsonEncoder

    item_operations = {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"}
    walk = responses.DynamoResult.execute_result

    def execute_result(self, context):
        if context.operation_model.name not in item_operations:
            return walk(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result, cls=DynamoJsonEncoder, separators=(",", ":"))

    responses.DynamoResult.execute_result = execute_result


class QuietKeepAlive(WSGIRequestHandler):
    """HTTP/1.1, so a client keeps its connection (werkzeug's default, HTTP/1.0, costs a
    connection and a thread per request), and no access-log line per request."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-") -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    copy_each_table_once()
    query_reads_one_partition()
    cache_per_request_lookups()
    item_results_as_json()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # Consume the whole response under the lock.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serial, threaded=True, request_handler=QuietKeepAlive)


if __name__ == "__main__":
    main()

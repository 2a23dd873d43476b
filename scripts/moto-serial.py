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
from werkzeug.serving import run_simple


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    copy_each_table_once()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # Consume the whole response under the lock.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serial, threaded=True)


if __name__ == "__main__":
    main()

"""moto_server with every request handled one at a time.

moto (an emulator of the AWS wire protocol) applies a DynamoDB TransactWriteItems by
deep-copying the table, writing item by item and, when a condition fails, putting the copy
back. Under moto_server's threads that is not atomic: a cancelled transaction can restore a
copy taken while another request was half-way, resurrecting or losing writes. DynamoDB itself
is serialisable, so the tests serialise moto's requests to get the semantics they test.

    python scripts/moto-serial.py [-H 127.0.0.1] [-p 5000]
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # Consume the whole response under the lock.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serial, threaded=True)


if __name__ == "__main__":
    main()

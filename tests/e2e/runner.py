"""Runs the end-to-end tests with unittest and closes with one summary line:

    e2e: N passed, N failed, N skipped

Usage: python runner.py [-k PATTERN] [MODULE_OR_TEST ...]   (default: every test_*.py here)

Expected failures (tests marked @known_server_bug) count as skipped in the summary and are
listed above it; an unexpected success (a marked bug that no longer reproduces) counts as failed.
Exits 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", dest="patterns", action="append", default=[], help="only tests whose name contains this")
    parser.add_argument("-q", dest="quiet", action="store_true", help="dots instead of one line per test")
    parser.add_argument("tests", nargs="*", help="modules or dotted test names, e.g. test_durability")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    os.chdir(HERE)
    import harness

    def terminate(signum, frame):
        harness.kill_all_servers()
        print(f"\ne2e: interrupted by signal {signum}", flush=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    # A hung test dumps every thread's stack instead of stalling CI silently.
    faulthandler.dump_traceback_later(int(os.environ.get("STARLING_E2E_HANG_SECS", "600")), exit=True)

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
    suite = loader.loadTestsFromNames(args.tests) if args.tests else loader.discover(str(HERE), pattern="test_*.py", top_level_dir=str(HERE))

    started = time.monotonic()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=1 if args.quiet else 2)
    result = runner.run(suite)
    elapsed = time.monotonic() - started

    passed = result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped) - len(result.expectedFailures) - len(result.unexpectedSuccesses)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped) + len(result.expectedFailures)
    if result.expectedFailures:
        print("\nknown server bugs (expected failures, still reproducing):")
        for test, _ in result.expectedFailures:
            method = getattr(test, test._testMethodName, None)
            print(f"  {test.id()}: {getattr(method, '__known_bug__', '')}")
    if result.unexpectedSuccesses:
        print("\nmarked as known server bugs but now passing (remove @known_server_bug):")
        for test in result.unexpectedSuccesses:
            print(f"  {test.id()}")
    print(f"\ne2e finished in {elapsed:.1f}s")
    print(f"e2e: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Durability: everything the server acknowledged survives `kill -9`.

A write counts as acknowledged when its HTTP response was 200 (checked on the wire through a
requests hook, not inferred). The server is then killed with SIGKILL, so no shutdown code runs,
restarted on the same port and data directory, and every acknowledged account, status, follow
and home-timeline entry must still be there. Home timelines live in a memory cache that dies
with the process; after the restart they are rebuilt from the store of record, and must come
back with the same entries.
"""

from __future__ import annotations

import threading
import time
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests
from mastodon import Mastodon, MastodonNotFoundError

from harness import NO_RATE_LIMITS, LogOnFailure, PASSWORD, REQUEST_TIMEOUT, Server, eventually, register_app, unique


class Acks:
    """Records the status code of every response a client receives (a requests hook)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.codes: list[tuple[str, str, int]] = []

    def session(self) -> requests.Session:
        s = requests.Session()
        s.hooks["response"].append(self._record)
        return s

    def _record(self, response, *args, **kwargs):
        with self.lock:
            self.codes.append((response.request.method, response.request.path_url, response.status_code))

    def last(self) -> tuple[str, str, int]:
        with self.lock:
            return self.codes[-1]


class DurabilityTest(LogOnFailure):
    def setUp(self):
        self.server = Server(env=NO_RATE_LIMITS).start()
        self.addCleanup(self.server.close)
        self.app = register_app(self.server.url, "e2e durability")
        self.acks = Acks()

    def client(self, token: str | None = None) -> Mastodon:
        return Mastodon(client_id=self.app[0], client_secret=self.app[1], access_token=token, api_base_url=self.server.url, session=self.acks.session(), request_timeout=REQUEST_TIMEOUT)

    def acked(self, call, *args, **kwargs):
        """Performs a write and asserts the server acknowledged it with 200."""
        result = call(*args, **kwargs)
        method, path, code = self.acks.last()
        self.assertEqual(code, 200, f"{method} {path} answered {code}")
        self.assertIn(method, ("POST", "PUT", "PATCH", "DELETE"))
        return result

    def sign_up(self, prefix: str) -> Mastodon:
        m = self.client()
        name = unique(prefix)
        self.acked(m.create_account, name, PASSWORD, f"{name}@example.com", agreement=True)
        return m

    def kill_and_restart(self):
        pid = self.server.proc.pid
        self.server.kill()  # SIGKILL
        self.assertEqual(self.server.proc.returncode, -9, f"server {pid} did not die of SIGKILL")
        self.server.start()

    # ---------------------------------------------------------------------------------------------

    def test_acknowledged_state_survives_sigkill(self):
        alice, bob, carol = self.sign_up("alice"), self.sign_up("bob"), self.sign_up("carol")
        a, b, c = (m.me() for m in (alice, bob, carol))
        tokens = {a.id: alice.access_token, b.id: bob.access_token, c.id: carol.access_token}

        self.acked(alice.account_update_credentials, display_name="Alice A.", note="durable bio", fields=[("Home", "https://example.com/alice")])
        self.acked(bob.account_follow, a.id)
        self.acked(carol.account_follow, a.id)
        self.acked(alice.account_follow, b.id)
        self.acked(carol.account_follow, b.id)

        posted = {}
        def post(m, text, **kw):
            s = self.acked(m.status_post, text, **kw)
            posted[s.id] = (s.account.id, s.content, s.visibility)
            return s

        a1 = post(alice, "alice public #durable", visibility="public")
        a2 = post(alice, "alice unlisted", visibility="unlisted")
        a3 = post(alice, "alice followers-only", visibility="private")
        b1 = post(bob, "bob replies", in_reply_to_id=a1.id)
        a4 = post(alice, "alice again #durable", idempotency_key=str(uuid.uuid4()))
        edited = self.acked(alice.status_update, a2.id, "alice unlisted, edited")
        posted[a2.id] = (a.id, edited.content, "unlisted")
        gone = post(bob, "bob deletes this")
        self.acked(bob.status_delete, gone.id)
        del posted[gone.id]
        self.acked(carol.status_favourite, a1.id)
        self.acked(carol.status_bookmark, a4.id)
        self.acked(carol.status_reblog, a4.id)

        # Home timelines as their owners see them before the crash (fanout is asynchronous).
        # Carol's own boost of a4 adds no entry: a home holds one entry per original status.
        originals = sorted((str(x.id) for x in (a1, a2, a3, b1, a4)), key=int, reverse=True)
        home_ids = lambda m: [str(s.id) for s in m.timeline_home(limit=40)]
        home_originals = lambda m: [str(s.reblog.id if s.reblog else s.id) for s in m.timeline_home(limit=40)]
        eventually(lambda: home_originals(bob) == originals, message="bob's home before the crash")
        eventually(lambda: home_originals(carol) == originals, message="carol's home before the crash")
        expected_bob_home, expected_carol_home = home_ids(bob), home_ids(carol)

        def snapshot(viewer: Mastodon):
            return {
                "accounts": {i: (x.username, x.display_name, x.note, [(f.name, f.value) for f in x.fields], x.followers_count, x.following_count, x.statuses_count) for i in tokens for x in [viewer.account(i)]},
                "statuses": {i: (str(s.account.id), s.content, s.visibility, s.favourites_count, s.reblogs_count, s.replies_count) for i in posted for s in [viewer.status(i)]},
                "carol_rel": [(str(r.id), r.following, r.followed_by) for r in viewer.account_relationships([a.id, b.id])],
            }

        before = snapshot(carol)
        self.assertEqual(before["accounts"][a.id][4:], (2, 1, 4))  # followers, following, statuses
        self.assertEqual(before["statuses"][a1.id][3:], (1, 0, 1))  # favourites, reblogs, replies
        alice_followers = [x.id for x in alice.account_followers(a.id)]
        bob_following = [x.id for x in bob.account_following(b.id)]

        # One last write, then SIGKILL the moment it is acknowledged: its fanout may not have
        # run yet, so only the store's outbox and the home rebuild can bring it back.
        last = self.acked(alice.status_post, "last words before the crash")
        self.kill_and_restart()
        before["accounts"][a.id] = before["accounts"][a.id][:6] + (5,)
        before["statuses"][last.id] = (str(a.id), last.content, "public", 0, 0, 0)
        posted[last.id] = None
        expected_bob_home.insert(0, str(last.id))
        expected_carol_home.insert(0, str(last.id))

        # Every session still works: the signing key and tokens were durable.
        alice, bob, carol = (self.client(tokens[i]) for i in (a.id, b.id, c.id))
        self.assertEqual([m.me().id for m in (alice, bob, carol)], [a.id, b.id, c.id])
        # Accounts, profiles, counters, statuses and edits.
        after = snapshot(carol)
        self.assertEqual(after, before)
        self.assertEqual(alice.account_lookup(a.username).id, a.id)
        self.assertEqual(alice.status_source(a2.id).text, "alice unlisted, edited")
        self.assertEqual(len(alice.status_history(a2.id)), 2)
        with self.assertRaises(MastodonNotFoundError):
            bob.status(gone.id)
        # The social graph.
        self.assertEqual([x.id for x in alice.account_followers(a.id)], alice_followers)
        self.assertEqual([x.id for x in bob.account_following(b.id)], bob_following)
        rel = bob.account_relationships(a.id)[0]
        self.assertTrue(rel.following and rel.followed_by)
        # Interactions.
        self.assertEqual([s.id for s in carol.favourites()], [a1.id])
        self.assertEqual([s.id for s in carol.bookmarks()], [a4.id])
        self.assertTrue(carol.status(a4.id).reblogged)
        self.assertEqual([s.id for s in carol.timeline_hashtag("durable")], [a4.id, a1.id])
        # Home timelines: rebuilt from the store when the cache died with the process (embedded),
        # or kept in Redis and completed by the fanout of the outbox's pending events.
        eventually(lambda: home_ids(bob) == expected_bob_home, message="bob's home after the restart")
        eventually(lambda: home_ids(carol) == expected_carol_home, message="carol's home after the restart")
        # The restarted server keeps accepting writes, and fanout resumes.
        fresh = self.acked(alice.status_post, "after the restart")
        eventually(lambda: home_ids(bob)[0] == str(fresh.id), message="post after restart in bob's home")

    def test_direct_message_in_home_survives_sigkill(self):
        author, recipient = self.sign_up("dmauthor"), self.sign_up("dmreader")
        self.acked(recipient.account_follow, author.me().id)
        recipient.timeline_home()
        dm = self.acked(author.status_post, f"@{recipient.me().username} for your eyes only", visibility="direct")
        eventually(lambda: str(dm.id) in [str(s.id) for s in recipient.timeline_home()], message="direct status in the recipient's home")
        self.kill_and_restart()
        recipient = self.client(recipient.access_token)
        self.assertEqual(recipient.status(dm.id).id, dm.id)
        self.assertIn(str(dm.id), [str(s.id) for s in recipient.timeline_home()])

    def test_idempotency_key_survives_sigkill(self):
        m = self.sign_up("idem")
        key = str(uuid.uuid4())
        first = self.acked(m.status_post, "exactly once", idempotency_key=key)
        self.kill_and_restart()
        m = self.client(m.access_token)
        again = self.acked(m.status_post, "exactly once", idempotency_key=key)
        self.assertEqual(again.id, first.id)
        self.assertEqual(m.me().statuses_count, 1)

    def test_burst_of_200_concurrent_posts_survives_sigkill(self):
        authors = [self.sign_up(f"burst{i}_") for i in range(4)]
        reader = self.sign_up("burstr")
        for m in authors:
            self.acked(reader.account_follow, m.me().id)
        reader.timeline_home()
        tokens = [m.access_token for m in authors]
        author_ids = [m.me().id for m in authors]

        acked: dict[str, str] = {}  # status id -> text
        lock = threading.Lock()
        local = threading.local()

        def post(n: int):
            i = n % len(tokens)
            clients = getattr(local, "clients", None)
            if clients is None:
                clients = local.clients = [self.client(t) for t in tokens]
            text = f"burst post {n} by author {i}"
            s = clients[i].status_post(text)
            return str(s.id), text, str(s.account.id)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(post, n) for n in range(200)]
            for f in as_completed(futures):
                sid, text, account = f.result()  # raises if any post was not acknowledged
                with lock:
                    acked[sid] = text
        # Kill at once: the last acknowledgement has just arrived.
        self.server.kill()
        burst_secs = time.monotonic() - started
        self.assertEqual(len(acked), 200)
        self.assertTrue(all(code == 200 for method, path, code in self.acks.codes if path == "/api/v1/statuses"))
        self.server.start()

        checker = self.client(reader.access_token)
        for sid, text in acked.items():
            self.assertIn(text, checker.status(sid).content)
        for i, account in enumerate(author_ids):
            self.assertEqual(checker.account(account).statuses_count, 50)
            listed = [str(s.id) for s in checker.fetch_remaining(checker.account_statuses(account, limit=40))]
            self.assertEqual(len(listed), 50)
            self.assertTrue(set(listed) <= set(acked))
        home = lambda: sorted(str(s.id) for s in checker.fetch_remaining(checker.timeline_home(limit=40)))
        eventually(lambda: home() == sorted(acked), interval=0.5, message="every acknowledged post in the reader's home")
        print(f"\n  burst: 200 concurrent posts acknowledged in {burst_secs:.2f}s, all present after kill -9 ", end="", flush=True)

    def test_sigkill_mid_burst_keeps_every_acknowledged_post(self):
        author = self.sign_up("midburst")
        token = author.access_token
        acked: list[str] = []
        lock = threading.Lock()
        killed = threading.Event()
        local = threading.local()

        def post(n: int):
            if killed.is_set():
                return None
            m = getattr(local, "m", None) or setattr(local, "m", self.client(token)) or local.m
            try:
                s = m.status_post(f"mid-burst {n}")
            except Exception:
                return None  # in flight when the server died: not acknowledged
            with lock:
                acked.append(str(s.id))
                if len(acked) == 100:
                    killed.set()
                    self.server.proc.kill()  # SIGKILL while other posts are in flight
            return s.id

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(post, range(200)))
        self.server.kill()
        self.assertGreaterEqual(len(acked), 100)
        self.server.start()
        m = self.client(token)
        listed = {str(s.id) for s in m.fetch_remaining(m.account_statuses(m.me().id, limit=40))}
        self.assertTrue(set(acked) <= listed, f"lost acknowledged posts: {sorted(set(acked) - listed)}")
        self.assertEqual(m.me().statuses_count, len(listed))


if __name__ == "__main__":
    unittest.main()

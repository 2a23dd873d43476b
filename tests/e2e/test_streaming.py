"""Realtime streaming and notifications, as the unmodified Mastodon.py client uses them."""

from __future__ import annotations

import queue
import time

from mastodon import StreamListener

import backends
from harness import ServerTestCase, eventually

# A mention reaches the mentioned user's stream within a second on the embedded default (the
# notifications consumer tails the log in process). With events on Kinesis it goes outbox →
# relay → stream → a shard read at most once a second per consumer (docs/operations.md), here
# on moto: within three.
MENTION_DEADLINE = 3.0 if backends.enabled() else 1.0


class Collector(StreamListener):
    """Puts every streamed event on a queue with the moment it arrived."""

    def __init__(self):
        super().__init__()
        self.events: queue.Queue = queue.Queue()

    def on_update(self, status):
        self.events.put(("update", status, time.monotonic()))

    def on_notification(self, notification):
        self.events.put(("notification", notification, time.monotonic()))

    def on_delete(self, status_id):
        self.events.put(("delete", status_id, time.monotonic()))

    def next(self, kind: str, timeout: float):
        """The next event of `kind` arriving within `timeout` seconds (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} event within {timeout}s")
            try:
                got, payload, at = self.events.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError(f"no {kind} event within {timeout}s") from None
            if got == kind:
                return payload, at


class StreamingTest(ServerTestCase):
    def open_user_stream(self, m):
        listener = Collector()
        handle = m.stream_user(listener, run_async=True, reconnect_async=False)
        self.addCleanup(handle.close)
        # Connected once the response headers arrived: the server has subscribed by then.
        eventually(lambda: handle.connection is not None, message="the user stream connected")
        return listener

    def test_stream_healthy(self):
        self.assertTrue(self.user("health").stream_healthy())

    def test_stream_user_receives_a_mention_within_a_second(self):
        alice = self.user("alice")
        bob = self.user("bob")
        listener = self.open_user_stream(alice)
        me = alice.account_verify_credentials()

        sent = time.monotonic()
        posted = bob.status_post(f"@{me.username} are you there?")
        notification, arrived = listener.next("notification", timeout=MENTION_DEADLINE)
        self.assertLess(arrived - sent, MENTION_DEADLINE)
        self.assertEqual(notification.type, "mention")
        self.assertEqual(str(notification.status.id), str(posted.id))
        self.assertEqual(str(notification.account.id), str(bob.account_verify_credentials().id))

        listed = alice.notifications()
        self.assertEqual([str(n.id) for n in listed], [str(notification.id)])
        self.assertEqual(listed[0].type, "mention")
        self.assertEqual(str(alice.notifications(id=notification.id).status.id), str(posted.id))

    def test_stream_user_sees_followed_posts_and_their_deletion(self):
        alice = self.user("reader")
        bob = self.user("writer")
        alice.account_follow(bob.account_verify_credentials().id)
        listener = self.open_user_stream(alice)
        posted = bob.status_post("live from the stream")
        status, _ = listener.next("update", timeout=2.0)
        self.assertEqual(str(status.id), str(posted.id))
        bob.status_delete(posted.id)
        deleted, _ = listener.next("delete", timeout=2.0)
        self.assertEqual(str(deleted), str(posted.id))

    def three_notifications(self):
        alice = self.user("popular")
        fan = self.user("fan")
        me = alice.account_verify_credentials()
        post = alice.status_post("like me")
        fan.status_favourite(post.id)
        fan.account_follow(me.id)
        fan.status_post(f"@{me.username} hello")
        notes = eventually(lambda: len(alice.notifications()) == 3 and alice.notifications(), message="three notifications")
        self.assertEqual([n.type for n in notes], ["mention", "follow", "favourite"])
        return alice, notes

    def test_notifications_list_and_clear(self):
        alice, _ = self.three_notifications()
        # types= / exclude_types= are left out: Mastodon.py first probes the server version
        # through GET /api/v1/instance/ (trailing slash), a known server bug; the filters have
        # API tests of their own (core/server/tests/it/notifications.rs).
        self.assertEqual([n.type for n in alice.notifications(limit=1)], ["mention"])
        alice.notifications_clear()
        self.assertEqual(alice.notifications(), [])

    def test_notifications_dismiss(self):
        alice, notes = self.three_notifications()
        alice.notifications_dismiss(notes[0].id)
        self.assertEqual([n.type for n in alice.notifications()], ["follow", "favourite"])

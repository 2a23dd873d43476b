"""Direct conversations driven by the unmodified Mastodon.py client: a direct status makes a
conversation unread for the mentioned account and read for its author, `conversations_read`
marks it read, a reply unreads it for the other side, the `direct` stream carries it, and
nobody unmentioned sees the status."""

from __future__ import annotations

import time

from mastodon import MastodonNotFoundError

from harness import ServerTestCase, eventually, sign_up, unique
from test_streaming import Collector


class ConversationCollector(Collector):
    def on_conversation(self, conversation):
        self.events.put(("conversation", conversation, time.monotonic()))


class ConversationsTest(ServerTestCase):
    def user(self, prefix: str):
        return sign_up(self.server.url, self.app, unique(prefix))

    def test_a_direct_conversation_read_and_unread(self):
        alice, bob, carol = self.user("ca"), self.user("cb"), self.user("cc")
        bob_name = bob.me().acct
        alice_name = alice.me().acct

        listener = ConversationCollector()
        handle = bob.stream_direct(listener, run_async=True, reconnect_async=False)
        self.addCleanup(handle.close)
        eventually(lambda: handle.connection is not None, message="the direct stream connected")

        first = alice.status_post(f"@{bob_name} just between us", visibility="direct")
        streamed, _ = listener.next("conversation", timeout=5.0)
        self.assertEqual(str(streamed.last_status.id), str(first.id))
        self.assertTrue(streamed.unread)

        bobs = eventually(lambda: bob.conversations(), message="bob's conversation")
        self.assertEqual(len(bobs), 1)
        self.assertTrue(bobs[0].unread, "unread for the mentioned account")
        self.assertEqual([a.acct for a in bobs[0].accounts], [alice_name])
        self.assertEqual(str(bobs[0].last_status.id), str(first.id))
        alices = alice.conversations()
        self.assertEqual(len(alices), 1)
        self.assertFalse(alices[0].unread, "read for its author")

        read = bob.conversations_read(bobs[0].id)
        self.assertFalse(read.unread)
        self.assertFalse(bob.conversations()[0].unread, "read after conversations_read")

        reply = bob.status_post(f"@{alice_name} got it", visibility="direct", in_reply_to_id=first.id)
        eventually(lambda: (c := alice.conversations()) and str(c[0].last_status.id) == str(reply.id) and c[0].unread, message="alice's conversation unread again")
        self.assertEqual(len(alice.conversations()), 1, "the same conversation")
        self.assertFalse(bob.conversations()[0].unread, "one's own reply reads it")

        # Nobody unmentioned sees any of it.
        self.assertEqual(list(carol.conversations()), [])
        with self.assertRaises(MastodonNotFoundError):
            carol.status(first.id)
        self.assertNotIn(str(first.id), [str(s.id) for s in carol.account_statuses(alice.me().id)])

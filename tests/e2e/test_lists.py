"""Lists driven by the unmodified Mastodon.py client: create, rename, members (followed accounts
only), the list timeline fed by fanout, an exclusive list keeping its members out of home, the
list stream, and deletion."""

from __future__ import annotations

from mastodon import MastodonAPIError, MastodonNotFoundError

from harness import ServerTestCase, eventually, sign_up, unique
from test_streaming import Collector


def ids(items) -> list[str]:
    return [str(i.id) for i in items]


class ListsTest(ServerTestCase):
    def user(self, prefix: str):
        return sign_up(self.server.url, self.app, unique(prefix))

    def test_lists_members_and_errors(self):
        owner, friend, stranger = self.user("lo"), self.user("lf"), self.user("ls")
        friend_id, stranger_id = friend.me().id, stranger.me().id
        owner.account_follow(friend_id)
        made = owner.list_create("Friends")
        self.assertEqual((made.title, made.replies_policy, made.exclusive), ("Friends", "list", False))
        renamed = owner.list_update(made.id, "Pals", replies_policy="followed")
        self.assertEqual((renamed.title, renamed.replies_policy), ("Pals", "followed"))
        self.assertEqual(ids(owner.lists()), [str(made.id)])
        self.assertEqual(owner.list(made.id).title, "Pals")

        owner.list_accounts_add(made.id, [friend_id])
        self.assertEqual(ids(owner.list_accounts(made.id)), [str(friend_id)])
        self.assertEqual(ids(owner.account_lists(friend_id)), [str(made.id)])
        # Only accounts you follow: Mastodon's 422 with a readable reason.
        with self.assertRaises(MastodonAPIError) as refused:
            owner.list_accounts_add(made.id, [stranger_id])
        self.assertIn("follow", str(refused.exception))
        # Someone else's list does not exist for them.
        with self.assertRaises(MastodonNotFoundError):
            stranger.list(made.id)

        owner.list_accounts_delete(made.id, [friend_id])
        self.assertEqual(list(owner.list_accounts(made.id)), [])
        owner.list_delete(made.id)
        self.assertEqual(list(owner.lists()), [])
        with self.assertRaises(MastodonNotFoundError):
            owner.list(made.id)

    def test_list_timeline_with_an_exclusive_list_and_its_stream(self):
        reader, listed, other = self.user("lr"), self.user("ll"), self.user("lx")
        listed_id, other_id = listed.me().id, other.me().id
        reader.account_follow(listed_id)
        reader.account_follow(other_id)
        exclusive = reader.list_create("Only here", exclusive=True)
        self.assertTrue(exclusive.exclusive)
        reader.list_accounts_add(exclusive.id, [listed_id])

        listener = Collector()
        handle = reader.stream_list(exclusive.id, listener, run_async=True, reconnect_async=False)
        self.addCleanup(handle.close)
        eventually(lambda: handle.connection is not None, message="the list stream connected")

        in_list = listed.status_post("for the list")
        in_home = other.status_post("for home")
        streamed, _ = listener.next("update", timeout=5.0)
        self.assertEqual(str(streamed.id), str(in_list.id))
        eventually(lambda: ids(reader.timeline_list(exclusive.id)) == [str(in_list.id)], message="the member's post in the list")
        home = eventually(lambda: (h := ids(reader.timeline_home())) and str(in_home.id) in h and h, message="the other post in home")
        self.assertNotIn(str(in_list.id), home, "an exclusive list keeps its members out of home")

        later = listed.status_post("second")
        eventually(lambda: ids(reader.timeline_list(exclusive.id)) == [str(later.id), str(in_list.id)], message="newest first")
        page = reader.timeline_list(exclusive.id, limit=1)
        self.assertEqual(ids(page), [str(later.id)])
        self.assertEqual(ids(reader.fetch_next(page)), [str(in_list.id)])

        listed.status_delete(later.id)
        deleted, _ = listener.next("delete", timeout=5.0)
        self.assertEqual(str(deleted), str(later.id))
        eventually(lambda: ids(reader.timeline_list(exclusive.id)) == [str(in_list.id)], message="the deleted post gone")

        # Not exclusive any more: the member's posts are back in home.
        reader.list_update(exclusive.id, "Everywhere", exclusive=False)
        eventually(lambda: str(in_list.id) in ids(reader.timeline_home()), message="the member back in home")

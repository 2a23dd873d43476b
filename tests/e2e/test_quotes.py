"""Quote posts (Mastodon 4.5) driven by the unmodified Mastodon.py client: quoting within the
quoted post's policy, the quote in the Status entity, the quoted author's list of quotes, the
`quote` notification, revoking a quote and changing who may quote."""

from __future__ import annotations

from mastodon import MastodonAPIError, MastodonNotFoundError

from harness import ServerTestCase, client, eventually, sign_up, unique


class QuotesTest(ServerTestCase):
    def user(self, prefix: str):
        signed_up = sign_up(self.server.url, self.app, unique(prefix))
        # Starling advertises Mastodon 4.2's API (`api_versions.mastodon` 1: grouped notifications
        # and the rest of 4.3-4.5 are not there), so Mastodon.py's version check would refuse its
        # 4.5 quote methods before sending anything; the quote endpoints themselves are served.
        return client(self.server.url, self.app, access_token=signed_up.access_token, version_check_mode="none")

    def test_quote_list_notify_revoke_and_change_the_policy(self):
        author, follower, stranger = self.user("qa"), self.user("qf"), self.user("qs")
        follower.account_follow(author.me().id)
        original = author.status_post("worth quoting", quote_approval_policy="followers")
        self.assertEqual(original.quote_approval.automatic, ["followers"])

        quoting = follower.status_post("so true", quoted_status_id=original.id)
        self.assertEqual(quoting.quote.state, "accepted")
        self.assertEqual(quoting.quote.quoted_status.id, original.id)
        with self.assertRaises(MastodonAPIError) as refused:
            stranger.status_post("me too", quoted_status_id=original.id)
        self.assertEqual(refused.exception.args[1], 422)
        private = author.status_post("just for followers", visibility="private")
        with self.assertRaises(MastodonNotFoundError):
            stranger.status_post("peek", quoted_status_id=private.id)

        self.assertEqual([s.id for s in author.status_quotes(original.id)], [quoting.id])
        self.assertEqual(author.status(original.id).quotes_count, 1)
        told = eventually(lambda: [n for n in author.notifications() if n.type == "quote"], message="the quote notification")
        self.assertEqual((told[0].account.id, told[0].status.id), (follower.me().id, quoting.id))

        revoked = author.status_quote_revoke(original.id, quoting.id)
        self.assertEqual((revoked.id, revoked.quote.state, revoked.quote.quoted_status), (quoting.id, "revoked", None))
        self.assertEqual(list(author.status_quotes(original.id)), [])

        opened = author.status_update_quote_approval_policy(original.id, "public")
        self.assertEqual(opened.quote_approval.automatic, ["public"])
        now_allowed = stranger.status_post("now I may", quoted_status_id=original.id)
        self.assertEqual(now_allowed.quote.state, "accepted")
        author.status_delete(original.id)
        self.assertEqual((stranger.status(now_allowed.id).quote.state, stranger.status(now_allowed.id).quote.quoted_status), ("deleted", None))

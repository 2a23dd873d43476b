"""Followed and featured hashtags driven by the unmodified Mastodon.py client: following a tag
brings its public posts into the home timeline through fanout, and featured tags count the
account's own public posts."""

from __future__ import annotations

from mastodon import MastodonAPIError

from harness import ServerTestCase, eventually, sign_up, unique


class TagsTest(ServerTestCase):
    def user(self, prefix: str):
        return sign_up(self.server.url, self.app, unique(prefix))

    def test_a_followed_tags_post_arrives_in_home(self):
        reader, author = self.user("tr"), self.user("ta")
        followed = reader.tag_follow("e2etag")
        self.assertEqual((followed.name, followed.following), ("e2etag", True))
        self.assertEqual([t.name for t in reader.followed_tags()], ["e2etag"])
        self.assertTrue(reader.tag("e2etag").following)

        post = author.status_post("fresh from the #E2ETag feed")
        hidden = author.status_post("followers only #e2etag", visibility="private")
        home = eventually(lambda: [s.id for s in reader.timeline_home()] or None, message="the tagged post in home")
        self.assertEqual(home, [post.id])
        self.assertNotIn(hidden.id, home)

        self.assertFalse(reader.tag_unfollow("e2etag").following)
        self.assertEqual(list(reader.followed_tags()), [])

    def test_featured_tags(self):
        author = self.user("tf")
        author.status_post("one #featured")
        author.status_post("two #Featured")
        author.status_post("unlisted #featured", visibility="unlisted")
        author.status_post("private #featured", visibility="private")
        made = author.featured_tag_create("featured")
        # Public and unlisted posts count, as Mastodon's distributable?; private ones do not.
        self.assertEqual((made.name, str(made.statuses_count)), ("featured", "3"))
        self.assertIsNotNone(made.last_status_at)
        self.assertEqual([t.name for t in author.featured_tags()], ["featured"])
        self.assertEqual([t.name for t in author.account_featured_tags(author.me().id)], ["featured"])
        with self.assertRaises(MastodonAPIError):
            author.featured_tag_create("not a tag")
        author.featured_tag_delete(made.id)
        self.assertEqual(list(author.featured_tags()), [])

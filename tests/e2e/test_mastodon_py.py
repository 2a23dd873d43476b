"""Starling driven by the unmodified third-party Mastodon.py client, as real users would.

Each test signs up fresh users (Mastodon.create_app + create_account) on a shared server, so
tests are independent of one another and of their order.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import tempfile
import time
import unittest
import uuid
import zlib

import requests
from mastodon import MastodonAPIError, MastodonIllegalArgumentError, MastodonNotFoundError, MastodonRatelimitError

from harness import NO_RATE_LIMITS, PASSWORD, ServerTestCase, client, eventually, unique


def ids(statuses) -> list[str]:
    return [str(s.id) for s in statuses]


def png_bytes(width: int, height: int) -> bytes:
    """A real RGB PNG (a gradient), built without image libraries."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 128)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class MastodonPyTest(ServerTestCase):
    def assert_paths_answer(self, *paths: str):
        """Mastodon.py requests some routes with a trailing slash (Rails accepts both). If the
        server 404s them, Mastodon.py's version probe recurses ~1000 levels (2 requests each)
        before failing; checking first makes the failure fast and names the cause."""
        for path in paths:
            code = requests.get(self.server.url + path, timeout=10).status_code
            self.assertEqual(code, 200, f"GET {path} answered {code}")

    # ---- library set-up: version detection and logging in ----------------------------------------

    def test_client_defaults_need_no_version_check(self):
        # Mastodon.py 2.x defaults to version_check_mode="none": nothing is fetched up front.
        m = client(self.server.url, self.app)
        self.assertEqual(m.version_check_mode, "none")

    def test_version_check_mode_created(self):
        self.assert_paths_answer("/api/v1/instance/", "/api/v2/instance/")
        m = client(self.server.url, self.app, version_check_mode="created")
        self.assertEqual((m.mastodon_major, m.mastodon_minor, m.mastodon_patch), (4, 2, 0))
        self.assertEqual(m.mastodon_api_version, 1)
        self.assertEqual(m.retrieve_mastodon_version(), "4.2.0")

    def test_log_in_with_password_grant(self):
        self.assert_paths_answer("/api/v1/instance/", "/api/v2/instance/")
        name = unique("login")
        signup = client(self.server.url, self.app)
        signup.create_account(name, PASSWORD, f"{name}@example.com", agreement=True)
        m = client(self.server.url, self.app)
        token = m.log_in(name, PASSWORD, allow_http=True)  # allow_http: the test server speaks plain HTTP
        self.assertTrue(token)
        self.assertEqual(m.account_verify_credentials().username, name)

    def test_instance_information(self):
        self.assert_paths_answer("/api/v1/instance/", "/api/v2/instance/")
        m = client(self.server.url, self.app)
        info = m.instance()
        self.assertTrue(info.version.startswith("4.2.0"))
        self.assertEqual(m.instance_v2().api_versions["mastodon"], 1)

    def test_wrong_password_is_rejected(self):
        m = client(self.server.url, self.app)
        name = unique("wrongpw")
        m.create_account(name, PASSWORD, f"{name}@example.com", agreement=True)
        other = client(self.server.url, self.app)
        with self.assertRaises(MastodonIllegalArgumentError) as caught:
            other.log_in(name, "not the password at all", allow_http=True)
        self.assertIn("invalid_grant", str(caught.exception))

    def test_create_account_rejects_taken_username(self):
        name = unique("taken")
        client(self.server.url, self.app).create_account(name, PASSWORD, f"{name}@example.com", agreement=True)
        m = client(self.server.url, self.app)
        token, error = m.create_account(name, PASSWORD, f"other_{name}@example.com", agreement=True, return_detailed_error=True)
        self.assertIsNone(token)
        self.assertIn("taken", str(error.get("error", "")).lower())

    # ---- accounts ---------------------------------------------------------------------------------

    def test_verify_and_update_credentials(self):
        m = self.user("creds")
        me = m.account_verify_credentials()
        self.assertEqual(me.acct, me.username)
        self.assertEqual(me.statuses_count, 0)
        self.assertIn("source", me)

        updated = m.account_update_credentials(
            display_name="Ada Lovelace",
            note="Analyst of engines",
            fields=[("Website", "https://example.com"), ("Pronouns", "she/her")],
        )
        self.assertEqual(updated.display_name, "Ada Lovelace")
        self.assertIn("Analyst of engines", updated.note)
        self.assertEqual([f.name for f in updated.fields], ["Website", "Pronouns"])
        self.assertIn("example.com", updated.fields[0].value)
        self.assertEqual(updated.fields[1].value, "she/her")
        self.assertEqual(updated.source.note, "Analyst of engines")
        self.assertEqual([(f.name, f.value) for f in updated.source.fields], [("Website", "https://example.com"), ("Pronouns", "she/her")])

        again = m.account_verify_credentials()
        self.assertEqual(again.display_name, "Ada Lovelace")
        seen = self.user("viewer").account(again.id)
        self.assertEqual(seen.display_name, "Ada Lovelace")
        self.assertEqual(seen.username, again.username)

    def test_lookup_and_account_fetch(self):
        m = self.user("lookup")
        me = m.account_verify_credentials()
        other = self.user("looker")
        self.assertEqual(str(other.account_lookup(me.username).id), str(me.id))
        self.assertEqual(other.account(me.id).username, me.username)
        with self.assertRaises(MastodonNotFoundError):
            other.account_lookup(unique("nobody"))

    # ---- posting ----------------------------------------------------------------------------------

    def test_status_post_fields(self):
        m = self.user("poster")
        s = m.status_post("Hello #Starling world", visibility="unlisted", spoiler_text="a greeting", language="en")
        self.assertEqual(s.visibility, "unlisted")
        self.assertEqual(s.spoiler_text, "a greeting")
        self.assertTrue(s.sensitive)
        self.assertEqual(s.language, "en")
        self.assertIn("Hello", s.content)
        self.assertEqual([t.name for t in s.tags], ["starling"])
        self.assertEqual(s.account.username, m.account_verify_credentials().username)
        fetched = m.status(s.id)
        self.assertEqual(fetched.id, s.id)
        self.assertEqual(fetched.content, s.content)
        self.assertEqual(m.status_source(s.id).text, "Hello #Starling world")
        self.assertEqual(m.account_verify_credentials().statuses_count, 1)

    def test_idempotency_key_returns_the_first_status(self):
        m = self.user("idem")
        key = str(uuid.uuid4())
        first = m.status_post("posted once", idempotency_key=key)
        second = m.status_post("posted once", idempotency_key=key)
        self.assertEqual(first.id, second.id)
        other_key = m.status_post("posted once", idempotency_key=str(uuid.uuid4()))
        self.assertNotEqual(other_key.id, first.id)
        self.assertEqual(m.account_verify_credentials().statuses_count, 2)
        self.assertEqual(sorted(ids(m.account_statuses(m.me().id))), sorted([str(first.id), str(other_key.id)]))

    def test_visibility_rules(self):
        author = self.user("vis")
        follower = self.user("visf")
        stranger = self.user("viss")
        me = author.account_verify_credentials()
        follower.account_follow(me.id)
        follower.timeline_home()  # an active reader: their home timeline is built
        public = author.status_post("public post", visibility="public")
        private = author.status_post("followers only", visibility="private")
        direct = author.status_post(f"@{follower.me().username} secret", visibility="direct")
        self.assertEqual([m.username for m in direct.mentions], [follower.me().username])

        self.assertEqual(stranger.status(public.id).id, public.id)
        with self.assertRaises(MastodonNotFoundError):
            stranger.status(private.id)
        with self.assertRaises(MastodonNotFoundError):
            stranger.status(direct.id)
        self.assertEqual(follower.status(private.id).id, private.id)
        self.assertEqual(follower.status(direct.id).id, direct.id)

        self.assertEqual(ids(stranger.account_statuses(me.id)), [str(public.id)])
        self.assertEqual(set(ids(follower.account_statuses(me.id))), {str(public.id), str(private.id), str(direct.id)})
        eventually(lambda: set(ids(follower.timeline_home())) == {str(public.id), str(private.id), str(direct.id)}, message="all three posts in the follower's home")
        self.assertEqual(ids(stranger.timeline_home()), [])

    def test_direct_message_reaches_a_home_not_yet_read(self):
        author = self.user("dma")
        recipient = self.user("dmr")
        recipient.account_follow(author.me().id)
        direct = author.status_post(f"@{recipient.me().username} psst", visibility="direct")
        # The recipient opens their home for the first time after the message was sent.
        eventually(lambda: str(direct.id) in ids(recipient.timeline_home()), timeout=3, message="direct status in the mentioned follower's home")

    def test_direct_message_from_a_stranger_stays_out_of_home(self):
        # Mastodon delivers a direct status to the homes of mentioned accounts that follow the
        # author; from anyone else it is a conversation/notification, never a home entry.
        stranger = self.user("dms")
        friend = self.user("dmf")
        reader = self.user("dmreader")
        reader.account_follow(friend.me().id)
        reader.timeline_home()
        direct = stranger.status_post(f"@{reader.me().username} hello, we have not met", visibility="direct")
        self.assertEqual(reader.status(direct.id).id, direct.id)  # visible to the mentioned reader
        # Fanout handles events in order: once the friend's later post is in, the DM was handled.
        marker = friend.status_post("marker")
        eventually(lambda: str(marker.id) in ids(reader.timeline_home()), message="marker in home")
        self.assertNotIn(str(direct.id), ids(reader.timeline_home()))

    def test_edit_and_history(self):
        m = self.user("editor")
        s = m.status_post("first draft #draft")
        edited = m.status_update(s.id, "second draft #final", spoiler_text="edited")
        self.assertEqual(edited.id, s.id)
        self.assertIn("second draft", edited.content)
        self.assertEqual(edited.spoiler_text, "edited")
        self.assertIsNotNone(edited.edited_at)
        self.assertEqual([t.name for t in edited.tags], ["final"])
        history = m.status_history(s.id)
        self.assertEqual(len(history), 2)
        self.assertIn("first draft", history[0].content)
        self.assertIn("second draft", history[1].content)
        viewer = self.user("editview")
        self.assertIn(str(s.id), ids(viewer.timeline_hashtag("final")))
        self.assertNotIn(str(s.id), ids(viewer.timeline_hashtag("draft")))

    def test_delete(self):
        m = self.user("deleter")
        follower = self.user("delf")
        follower.account_follow(m.me().id)
        s = m.status_post("soon gone #ephemeral")
        eventually(lambda: str(s.id) in ids(follower.timeline_home()), message="post in follower's home")
        deleted = m.status_delete(s.id)
        self.assertEqual(deleted.id, s.id)
        self.assertEqual(deleted.text, "soon gone #ephemeral")
        with self.assertRaises(MastodonNotFoundError):
            m.status(s.id)
        self.assertEqual(ids(m.account_statuses(m.me().id)), [])
        self.assertNotIn(str(s.id), ids(follower.timeline_hashtag("ephemeral")))
        eventually(lambda: str(s.id) not in ids(follower.timeline_home()), message="deleted post gone from follower's home")
        self.assertEqual(m.account_verify_credentials().statuses_count, 0)

    def test_others_cannot_edit_or_delete(self):
        owner = self.user("owner")
        other = self.user("intruder")
        s = owner.status_post("mine")
        with self.assertRaises(MastodonAPIError):
            other.status_update(s.id, "yours now")
        with self.assertRaises(MastodonAPIError):
            other.status_delete(s.id)
        self.assertIn("mine", owner.status(s.id).content)

    # ---- interactions -----------------------------------------------------------------------------

    def test_favourite_and_unfavourite(self):
        author = self.user("favd")
        fan = self.user("fan")
        s = author.status_post("like me")
        faved = fan.status_favourite(s.id)
        self.assertTrue(faved.favourited)
        self.assertEqual(faved.favourites_count, 1)
        self.assertEqual(fan.status_favourite(s.id).favourites_count, 1)  # idempotent
        self.assertEqual([a.username for a in author.status_favourited_by(s.id)], [fan.me().username])
        self.assertEqual(ids(fan.favourites()), [str(s.id)])
        self.assertFalse(author.status(s.id).favourited)
        unfaved = fan.status_unfavourite(s.id)
        self.assertFalse(unfaved.favourited)
        self.assertEqual(unfaved.favourites_count, 0)
        self.assertEqual(ids(fan.favourites()), [])

    def test_reblog_and_unreblog(self):
        author = self.user("rbd")
        booster = self.user("booster")
        reader = self.user("rbreader")
        reader.account_follow(booster.me().id)
        s = author.status_post("boost me")
        boost = booster.status_reblog(s.id)
        self.assertIsNotNone(boost.reblog)
        self.assertEqual(boost.reblog.id, s.id)
        self.assertTrue(boost.reblog.reblogged)
        self.assertEqual(boost.reblog.reblogs_count, 1)
        self.assertEqual([a.username for a in author.status_reblogged_by(s.id)], [booster.me().username])
        home = eventually(lambda: [x for x in reader.timeline_home() if x.reblog and x.reblog.id == s.id], message="boost in the booster's follower's home")
        self.assertEqual(home[0].account.username, booster.me().username)
        self.assertIn(str(boost.id), ids(booster.account_statuses(booster.me().id)))
        original = booster.status_unreblog(s.id)
        self.assertEqual(original.id, s.id)
        self.assertFalse(original.reblogged)
        self.assertEqual(original.reblogs_count, 0)
        eventually(lambda: not [x for x in reader.timeline_home() if x.reblog and x.reblog.id == s.id], message="unboosted status gone from home")

    def test_home_reflects_own_interactions_at_once(self):
        m = self.user("ryw")
        s = m.status_post("read your writes")
        self.assertFalse(m.timeline_home()[0].favourited)
        m.status_favourite(s.id)
        m.status_update(s.id, "read your writes, edited")
        top = m.timeline_home()[0]
        self.assertEqual(top.id, s.id)
        self.assertTrue(top.favourited)
        self.assertIn("edited", top.content)

    def test_bookmarks(self):
        author = self.user("bmd")
        reader = self.user("bookmarker")
        s1 = author.status_post("keep this")
        s2 = author.status_post("and this")
        self.assertTrue(reader.status_bookmark(s1.id).bookmarked)
        self.assertTrue(reader.status_bookmark(s2.id).bookmarked)
        self.assertEqual(ids(reader.bookmarks()), [str(s2.id), str(s1.id)])
        self.assertFalse(author.status(s1.id).bookmarked)
        self.assertFalse(reader.status_unbookmark(s1.id).bookmarked)
        self.assertEqual(ids(reader.bookmarks()), [str(s2.id)])

    def test_reply_and_context(self):
        a = self.user("ctxa")
        b = self.user("ctxb")
        root = a.status_post("root of the thread")
        reply = b.status_post(f"@{a.me().username} a reply", in_reply_to_id=root.id)
        self.assertEqual(reply.in_reply_to_id, root.id)
        self.assertEqual(str(reply.in_reply_to_account_id), str(a.me().id))
        self.assertEqual([m.username for m in reply.mentions], [a.me().username])
        nested = a.status_post("a reply to the reply", in_reply_to_id=reply.id)
        sibling = b.status_post("another reply to the root", in_reply_to_id=root.id)

        ctx = a.status_context(root.id)
        self.assertEqual(ids(ctx.ancestors), [])
        self.assertEqual(ids(ctx.descendants), [str(reply.id), str(nested.id), str(sibling.id)])
        ctx = b.status_context(nested.id)
        self.assertEqual(ids(ctx.ancestors), [str(root.id), str(reply.id)])
        self.assertEqual(ids(ctx.descendants), [])
        self.assertEqual(a.status(root.id).replies_count, 2)

    # ---- social graph and timelines ----------------------------------------------------------------

    def test_follow_relationships_and_lists(self):
        a = self.user("fa")
        b = self.user("fb")
        a_id, b_id = a.me().id, b.me().id
        rel = a.account_follow(b_id)
        self.assertTrue(rel.following)
        self.assertFalse(rel.followed_by)
        rels = a.account_relationships([b_id])
        self.assertEqual(len(rels), 1)
        self.assertTrue(rels[0].following)
        rel_b = b.account_relationships(a_id)[0]
        self.assertTrue(rel_b.followed_by)
        self.assertFalse(rel_b.following)
        self.assertEqual([x.username for x in b.account_followers(b_id)], [a.me().username])
        self.assertEqual([x.username for x in a.account_following(a_id)], [b.me().username])
        self.assertEqual(b.account(b_id).followers_count, 1)
        self.assertEqual(a.account_verify_credentials().following_count, 1)

        rel = a.account_unfollow(b_id)
        self.assertFalse(rel.following)
        self.assertEqual(list(b.account_followers(b_id)), [])
        self.assertEqual(b.account(b_id).followers_count, 0)

    def test_home_timeline_follow_backfill_and_unfollow(self):
        author = self.user("homea")
        reader = self.user("homer")
        earlier = author.status_post("before the follow")
        reader.account_follow(author.me().id)
        eventually(lambda: str(earlier.id) in ids(reader.timeline_home()), message="backfilled post in home")
        later = author.status_post("after the follow")
        home = eventually(lambda: (h := ids(reader.timeline_home())) and str(later.id) in h and h, message="new post in home")
        self.assertEqual(home[:2], [str(later.id), str(earlier.id)])
        own = reader.status_post("my own post")
        self.assertEqual(ids(reader.timeline_home())[0], str(own.id))  # own posts appear at once
        reader.account_unfollow(author.me().id)
        eventually(lambda: ids(reader.timeline_home()) == [str(own.id)], message="unfollowed author's posts gone from home")

    def test_home_timeline_reply_rules(self):
        # Mastodon's rule: a reply reaches a home only when the reader follows both sides.
        a = self.user("rra")
        b = self.user("rrb")
        c = self.user("rrc")  # stranger to a
        reader = self.user("rrr")
        reader.account_follow(a.me().id)
        reader.account_follow(b.me().id)
        root_c = c.status_post("by someone reader does not follow")
        root_b = b.status_post("by someone reader follows")
        to_stranger = a.status_post("reply to a stranger", in_reply_to_id=root_c.id)
        to_followed = a.status_post("reply to a followed account", in_reply_to_id=root_b.id)
        marker = b.status_post("marker")
        eventually(lambda: str(marker.id) in ids(reader.timeline_home()), message="marker in home")
        home = ids(reader.timeline_home())
        self.assertIn(str(to_followed.id), home)  # fanned out before the later marker
        self.assertNotIn(str(to_stranger.id), home)

    def test_account_statuses_filters(self):
        m = self.user("filt")
        other = self.user("filto")
        s1 = m.status_post("plain #tagged")
        target = other.status_post("something to answer")
        reply = m.status_post("a reply", in_reply_to_id=target.id)
        boost = m.status_reblog(target.id)
        me = m.me().id
        self.assertEqual(ids(m.account_statuses(me)), [str(boost.id), str(reply.id), str(s1.id)])
        self.assertEqual(ids(m.account_statuses(me, exclude_replies=True)), [str(boost.id), str(s1.id)])
        self.assertEqual(ids(m.account_statuses(me, exclude_reblogs=True)), [str(reply.id), str(s1.id)])
        self.assertEqual(ids(m.account_statuses(me, tagged="tagged")), [str(s1.id)])

    def test_media_post_and_status_with_media(self):
        m = self.user("media")
        other = self.user("mediao")
        media = m.media_post(io.BytesIO(png_bytes(640, 480)), mime_type="image/png", description="a gradient", focus=(0.5, -0.5))
        self.assertEqual(media.type, "image")
        self.assertEqual((media.meta.original.width, media.meta.original.height), (640, 480))
        self.assertEqual((media.meta.small.width, media.meta.small.height), (400, 300))
        self.assertEqual(media.description, "a gradient")
        self.assertTrue(media.blurhash)
        served = requests.get(media.url, timeout=10)
        self.assertEqual(served.status_code, 200)
        self.assertEqual(served.headers["content-type"], "image/png")
        self.assertEqual(m.media_update(media.id, description="new alt").description, "new alt")
        status = m.status_post("with a picture", media_ids=[media.id])
        self.assertEqual([str(a.id) for a in status.media_attachments], [str(media.id)])
        self.assertEqual(status.media_attachments[0].description, "new alt")
        self.assertEqual(str(other.status(status.id).media_attachments[0].id), str(media.id))
        with self.assertRaises(MastodonAPIError):
            other.status_post("not mine", media_ids=[media.id])
        m.status_post("no media here")
        self.assertEqual(ids(m.account_statuses(m.me().id, only_media=True)), [str(status.id)])
        with self.assertRaises(MastodonAPIError):
            m.media_post(io.BytesIO(b"plain text, not a picture"), mime_type="image/png")

    # ---- profile pictures and GIFs ---------------------------------------------------------------

    def test_profile_pictures_are_set_served_and_deleted(self):
        m = self.user("pictures")
        me = m.account_update_credentials(
            display_name="Pictured",
            avatar=io.BytesIO(png_bytes(300, 200)), avatar_mime_type="image/png",
            header=io.BytesIO(png_bytes(900, 300)), header_mime_type="image/png",
        )
        self.assertEqual(me.display_name, "Pictured")
        self.assertNotIn("missing.png", me.avatar)
        self.assertEqual(me.avatar_static, me.avatar)
        for url in (me.avatar, me.header):
            served = requests.get(url, timeout=10)
            self.assertEqual(served.status_code, 200, url)
            self.assertEqual(served.headers["content-type"], "image/png")
        self.assertEqual(self.user("picviewer").account(me.id).avatar, me.avatar)
        cleared = m.account_delete_avatar()
        self.assertIn("missing.png", cleared.avatar)
        self.assertEqual(cleared.header, me.header)
        self.assertEqual(requests.get(me.avatar, timeout=10).status_code, 404)
        self.assertIn("missing.png", m.account_delete_header().header)

    def test_animated_gif_becomes_gifv(self):
        m = self.user("gifv")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dance.gif")
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", path], check=True)
            with open(path, "rb") as f:
                gif = f.read()
        media = m.media_post(io.BytesIO(gif), mime_type="image/gif")
        self.assertEqual(media.type, "gifv")
        done = eventually(lambda: (lambda x: x if x.url else None)(m.media(media.id)), timeout=60, interval=0.2, message="the GIF is processed")
        self.assertEqual(done.type, "gifv")
        self.assertEqual((done.meta.original.width, done.meta.original.height), (64, 48))
        served = requests.get(done.url, timeout=10)
        self.assertEqual(served.status_code, 200)
        self.assertEqual(served.headers["content-type"], "video/mp4")
        status = m.status_post("dancing", media_ids=[done.id])
        self.assertEqual(status.media_attachments[0].type, "gifv")

    def test_hashtag_timeline(self):
        m = self.user("tagger")
        tag = unique("tag").replace("_", "")
        s1 = m.status_post(f"first #{tag}")
        s2 = m.status_post(f"second #{tag.upper()}")
        hidden = m.status_post(f"private #{tag}", visibility="private")
        m.status_post("untagged")
        reader = self.user("tagread")
        self.assertEqual(ids(reader.timeline_hashtag(tag)), [str(s2.id), str(s1.id)])
        self.assertNotIn(str(hidden.id), ids(m.timeline_hashtag(tag)))
        self.assertEqual(ids(reader.timeline_hashtag(tag, limit=1)), [str(s2.id)])

    def test_public_timeline(self):
        m = self.user("pub")
        s = m.status_post("for everyone")
        u = m.status_post("quietly", visibility="unlisted")
        public = ids(self.user("pubr").timeline_public(limit=40))
        self.assertIn(str(s.id), public)
        self.assertNotIn(str(u.id), public)

    # ---- pagination -------------------------------------------------------------------------------

    def test_pagination_with_fetch_next(self):
        m = self.user("pager")
        posted = [str(m.status_post(f"post number {i} #paged{m.me().id}").id) for i in range(7)]
        newest_first = list(reversed(posted))

        def walk(page):
            seen = []
            while page:
                seen.extend(ids(page))
                page = m.fetch_next(page)
            return seen

        me = m.me().id
        self.assertEqual(walk(m.account_statuses(me, limit=3)), newest_first)
        self.assertEqual(walk(m.timeline_home(limit=2)), newest_first)
        self.assertEqual(walk(m.timeline_hashtag(f"paged{me}", limit=3)), newest_first)
        self.assertEqual(ids(m.fetch_remaining(m.account_statuses(me, limit=2))), newest_first)
        # fetch_previous from the oldest page walks back towards newer statuses.
        last = m.account_statuses(me, max_id=posted[2], limit=2)
        self.assertEqual(ids(last), [posted[1], posted[0]])
        # min_id semantics: the statuses just above the page, still listed newest first.
        self.assertEqual(ids(m.fetch_previous(last)), [posted[3], posted[2]])
        self.assertEqual(ids(m.account_statuses(me, since_id=posted[4])), [posted[6], posted[5]])

    def test_followers_pagination(self):
        target = self.user("popular")
        tid = target.me().id
        fans = []
        for i in range(5):
            f = self.user(f"fol{i}_")
            f.account_follow(tid)
            fans.append(f.me().username)
        page = target.account_followers(tid, limit=2)
        seen = []
        while page:
            seen.extend(a.username for a in page)
            page = target.fetch_next(page)
        self.assertEqual(seen, list(reversed(fans)))
        self.assertEqual(target.account(tid).followers_count, 5)

    def test_bookmarks_pagination(self):
        author = self.user("bmpa")
        reader = self.user("bmpr")
        posted = [author.status_post(f"bookmark me {i}") for i in range(5)]
        for s in posted:
            reader.status_bookmark(s.id)
        seen = []
        page = reader.bookmarks(limit=2)
        while page:
            seen.extend(ids(page))
            page = reader.fetch_next(page)
        self.assertEqual(seen, [str(s.id) for s in reversed(posted)])


class PollTest(ServerTestCase):
    """Polls short enough to end within the test (`[polls] min_expiration = 1`)."""

    server_env = {**NO_RATE_LIMITS, "STARLING__POLLS__MIN_EXPIRATION": "1", "STARLING__POLLS__EXPIRY_SCAN_MS": "200"}

    def test_a_poll_voted_on_and_expired_with_its_notifications(self):
        author, voter, bystander = self.user("pollster"), self.user("voter"), self.user("bystander")
        status = author.status_post("tea or coffee?", poll=author.make_poll(["tea", "coffee"], expires_in=3))
        self.assertEqual([o.title for o in status.poll.options], ["tea", "coffee"])
        self.assertFalse(status.poll.expired)
        voted = voter.poll_vote(status.poll.id, [1])
        self.assertTrue(voted.voted)
        self.assertEqual(voted.own_votes, [1])
        self.assertEqual([o.votes_count for o in voted.options], [0, 1])
        with self.assertRaises(MastodonAPIError):
            voter.poll_vote(status.poll.id, [0])  # once per account
        with self.assertRaises(MastodonAPIError):
            author.poll_vote(status.poll.id, [0])  # not one's own
        with self.assertRaises(MastodonAPIError):
            author.status_post("one option", poll=author.make_poll(["only"], expires_in=60))
        self.assertEqual(bystander.poll(status.poll.id).votes_count, 1)

        def poll_notifications(m):
            return [n for n in m.notifications(types=["poll"]) if str(n.status.id) == str(status.id)]

        for m in (author, voter):
            got = eventually(lambda: poll_notifications(m), timeout=15, message="poll notification")
            self.assertEqual(len(got), 1)
            self.assertTrue(got[0].status.poll.expired)
        self.assertEqual(poll_notifications(bystander), [])
        self.assertTrue(bystander.poll(status.poll.id).expired)
        with self.assertRaises(MastodonAPIError):
            bystander.poll_vote(status.poll.id, [0])  # not after the end


class RateLimitTest(ServerTestCase):
    """A server with the default quotas (Mastodon's: 300 requests per 5 minutes per token,
    5 sign-ups per 30 minutes per address)."""

    server_env = {}

    def test_quotas_and_headers(self):
        m = self.user("limited")
        m.timeline_home()
        # Mastodon.py parsed X-RateLimit-Limit/Remaining/Reset (a bad Reset would have raised).
        self.assertEqual(m.ratelimit_limit, 300)
        self.assertLess(m.ratelimit_remaining, 300)
        self.assertGreater(m.ratelimit_reset, time.time() - 5)
        # The sixth sign-up from one address within 30 minutes is refused with 429.
        outcomes = []
        for _ in range(5):
            try:
                self.user("many")
                outcomes.append("ok")
            except MastodonRatelimitError:
                outcomes.append("429")
        self.assertEqual(outcomes, ["ok"] * 4 + ["429"])


class RateLimitsDisabledTest(ServerTestCase):
    """`rate_limits.enabled = false` must switch every limiter off."""

    server_env = {"STARLING__RATE_LIMITS__ENABLED": "false"}

    def test_sign_ups_are_not_limited(self):
        for _ in range(7):
            self.user("free")


if __name__ == "__main__":
    unittest.main()

"""Safety and moderation driven by the unmodified Mastodon.py client: blocks, mutes with expiry,
locked accounts, reports, and an admin (made with `starling accounts create`) who suspends the
reported account — its statuses disappear for everyone and its open stream closes."""

from __future__ import annotations

import os
import subprocess
import time

from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

import backends
from harness import (NO_RATE_LIMITS, PASSWORD, REQUEST_TIMEOUT, LogOnFailure, Server, binary, eventually, register_app, sign_up, unique)
from test_streaming import Collector

ADMIN = "boss"
ADMIN_SCOPES = ["read", "write", "follow", "admin:read", "admin:write"]


def ids(items) -> list[str]:
    return [str(i.id) for i in items]


class ModerationTest(LogOnFailure):
    @classmethod
    def setUpClass(cls):
        server = Server(env=NO_RATE_LIMITS)
        # The first admin, from the command line, before the server holds the store.
        env = dict(os.environ)
        if backends.enabled():
            env.update(backends.settings(server.data_dir))
        env.update(server.env)
        made = subprocess.run(
            [str(binary()), "accounts", "create", ADMIN, "--email", "boss@example.com", "--role", "admin", "--password", PASSWORD, "--data-dir", str(server.data_dir)],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        cls.server = server.start()
        cls.addClassCleanup(cls.server.close)
        cls.app = register_app(cls.server.url, "e2e moderation")
        admin_app = Mastodon.create_app("e2e admin", api_base_url=cls.server.url, scopes=ADMIN_SCOPES)
        cls.admin = Mastodon(client_id=admin_app[0], client_secret=admin_app[1], api_base_url=cls.server.url, request_timeout=REQUEST_TIMEOUT)
        cls.admin.log_in(ADMIN, PASSWORD, scopes=ADMIN_SCOPES, allow_http=True)

    def user(self, prefix: str) -> Mastodon:
        return sign_up(self.server.url, self.app, unique(prefix))

    def test_block_hides_both_ways_and_unblock_restores(self):
        alice, bob = self.user("blk_a"), self.user("blk_b")
        bob_id = bob.me().id
        alice.account_follow(bob_id)
        post = bob.status_post("from bob")
        rel = alice.account_block(bob_id)
        self.assertTrue(rel.blocking)
        self.assertFalse(rel.following)
        self.assertEqual(ids(alice.blocks()), [str(bob_id)])
        self.assertTrue(bob.account_relationships(alice.me().id)[0].blocked_by)
        with self.assertRaises(MastodonNotFoundError):
            alice.status(post.id)
        with self.assertRaises(MastodonNotFoundError):
            bob.status(alice.status_post("from alice").id)
        with self.assertRaises(MastodonAPIError):
            bob.account_follow(alice.me().id)
        alice.account_unblock(bob_id)
        self.assertEqual(alice.status(post.id).id, post.id)

    def test_mute_with_expiry_lifts_by_itself(self):
        alice, bob = self.user("mut_a"), self.user("mut_b")
        bob_id = bob.me().id
        alice.account_follow(bob_id)
        post = bob.status_post("muted soon")
        eventually(lambda: str(post.id) in ids(alice.timeline_home()), message="bob's post in alice's home")
        rel = alice.account_mute(bob_id, notifications=True, duration=3)
        self.assertTrue(rel.muting and rel.muting_notifications)
        muted = alice.mutes()
        self.assertEqual(ids(muted), [str(bob_id)])
        self.assertIsNotNone(muted[0].mute_expires_at)
        self.assertNotIn(str(post.id), ids(alice.timeline_home()))
        time.sleep(3.5)
        self.assertIn(str(post.id), ids(alice.timeline_home()))
        self.assertFalse(alice.account_relationships(bob_id)[0].muting)
        self.assertEqual(alice.mutes(), [])

    def test_locked_account_authorizes_and_rejects_requests(self):
        alice, bob, carol = self.user("lck_a"), self.user("lck_b"), self.user("lck_c")
        alice.account_update_credentials(locked=True)
        alice_id = alice.me().id
        secret = alice.status_post("for followers only", visibility="private")
        self.assertTrue(bob.account_follow(alice_id).requested)
        self.assertTrue(carol.account_follow(alice_id).requested)
        pending = eventually(lambda: alice.follow_requests() if len(alice.follow_requests()) == 2 else None, message="two requests")
        self.assertEqual(sorted(ids(pending)), sorted([str(bob.me().id), str(carol.me().id)]))
        alice.follow_request_authorize(bob.me().id)
        alice.follow_request_reject(carol.me().id)
        self.assertEqual(alice.follow_requests(), [])
        self.assertTrue(bob.account_relationships(alice_id)[0].following)
        carol_rel = carol.account_relationships(alice_id)[0]
        self.assertFalse(carol_rel.following or carol_rel.requested)
        eventually(lambda: str(secret.id) in ids(bob.timeline_home()), message="the private post in the approved follower's home")
        with self.assertRaises(MastodonNotFoundError):
            carol.status(secret.id)

    def test_report_and_an_admin_suspends_the_reported_account(self):
        reporter, offender, reader = self.user("rep_a"), self.user("rep_b"), self.user("rep_c")
        offender_id = offender.me().id
        post = offender.status_post("something awful")
        self.assertEqual(reader.status(post.id).id, post.id)
        report = reporter.report(offender_id, status_ids=[post.id], comment="please look", category="other")
        self.assertEqual(str(report.target_account.id), str(offender_id))
        open_reports = self.admin.admin_reports()
        self.assertIn(str(report.id), ids(open_reports))

        listener = Collector()
        stream = offender.stream_user(listener, run_async=True, reconnect_async=False)
        self.addCleanup(stream.close)
        eventually(lambda: stream.connection is not None, message="the offender's stream connected")

        self.admin.admin_account_moderate(offender_id, "suspend", report_id=report.id)
        eventually(lambda: not stream.is_alive(), timeout=10, message="the suspended account's open stream closed")
        for m in (reader, reporter, self.admin):
            with self.assertRaises(MastodonNotFoundError):
                m.status(post.id)
        self.assertNotIn(str(post.id), ids(reader.timeline_public()))
        with self.assertRaises(MastodonAPIError):
            offender.account_verify_credentials()
        self.assertTrue(self.admin.admin_account(offender_id).suspended)
        self.assertNotIn(str(report.id), ids(self.admin.admin_reports()))
        resolved = self.admin.admin_reports(resolved=True)
        self.assertIn(str(report.id), ids(resolved))

    def test_non_admins_cannot_use_the_admin_api(self):
        someone = self.user("nonadm")
        app = Mastodon.create_app("e2e not admin", api_base_url=self.server.url, scopes=ADMIN_SCOPES)
        m = Mastodon(client_id=app[0], client_secret=app[1], api_base_url=self.server.url, request_timeout=REQUEST_TIMEOUT)
        m.log_in(someone.me().username, PASSWORD, scopes=ADMIN_SCOPES, allow_http=True)
        with self.assertRaises(MastodonAPIError) as caught:
            m.admin_accounts_v2()
        self.assertEqual(caught.exception.args[1], 403)
        self.assertEqual(str(self.admin.me().username), ADMIN)

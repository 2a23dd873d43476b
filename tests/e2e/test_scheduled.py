"""Scheduled statuses through the unmodified Mastodon.py client: scheduled, listed, shown,
rescheduled and deleted, refused when too soon, and published after a restart of the server
(it falls due while the server is down: SIGKILL, then a new process on the same data)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from mastodon import MastodonAPIError

import backends
from harness import NO_RATE_LIMITS, SETTLE_SECS, ServerTestCase, eventually

# How far ahead the restarted-server post is due: long enough to schedule it, look at it and
# kill the server first (requests go through moto on the production backends).
LEAD_SECS = 12 if backends.enabled() else 4


class ScheduledTest(ServerTestCase):
    """A short minimum lead (`[scheduled] min_lead_secs = 2`) so the posts fall due within the test."""

    server_env = {**NO_RATE_LIMITS, "STARLING__SCHEDULED__MIN_LEAD_SECS": "2", "STARLING__SCHEDULED__SCAN_MS": "200"}

    def test_a_scheduled_post_is_published_after_a_restart(self):
        author, follower = self.user("sched"), self.user("schedf")
        follower.account_follow(author.me().id)
        now = datetime.now(timezone.utc)

        with self.assertRaises(MastodonAPIError) as refused:
            author.status_post("in the past", scheduled_at=now - timedelta(minutes=1))
        self.assertEqual(refused.exception.args[1], 422)
        self.assertIn("at least 2 seconds in the future", str(refused.exception))

        # One to delete, one to reschedule far away, one due while the server is down.
        dropped = author.status_post("never mind", scheduled_at=now + timedelta(hours=1))
        moved = author.status_post("much later", scheduled_at=now + timedelta(hours=2), visibility="unlisted")
        due = now + timedelta(seconds=LEAD_SECS)
        scheduled = author.status_post("published while nobody was watching", scheduled_at=due)
        self.assertEqual(scheduled.params.text, "published while nobody was watching")
        self.assertEqual(scheduled.scheduled_at.replace(microsecond=0), due.replace(microsecond=0))
        self.assertEqual(moved.params.visibility, "unlisted")

        listed = author.scheduled_statuses()
        self.assertEqual([str(s.id) for s in listed], [str(scheduled.id), str(moved.id), str(dropped.id)])
        self.assertEqual(author.scheduled_status(scheduled.id).params.text, scheduled.params.text)
        later = now + timedelta(days=1)
        self.assertEqual(author.scheduled_status_update(moved.id, later).scheduled_at.replace(microsecond=0), later.replace(microsecond=0))
        author.scheduled_status_delete(dropped.id)
        self.assertEqual([str(s.id) for s in author.scheduled_statuses()], [str(scheduled.id), str(moved.id)])
        self.assertEqual(follower.scheduled_statuses(), [])
        self.assertEqual(author.account_statuses(author.me().id), [])

        # Down when it falls due; published by the next process.
        self.server.kill()
        time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 0.5)
        self.server.start()

        def posted():
            return [s for s in author.account_statuses(author.me().id) if "nobody was watching" in s.content]

        published = eventually(posted, timeout=SETTLE_SECS, message="the scheduled post")
        self.assertEqual(len(published), 1)
        self.assertGreaterEqual(published[0].created_at.replace(microsecond=0), due.replace(microsecond=0))
        eventually(lambda: str(published[0].id) in [str(s.id) for s in follower.timeline_home()], message="the post in the follower's home")
        self.assertEqual([str(s.id) for s in author.scheduled_statuses()], [str(moved.id)])
        time.sleep(0.5)
        self.assertEqual(len(posted()), 1, "published once")

"""Filters through the unmodified Mastodon.py client: a hiding and a warning filter (v2, with
keywords), their keyword and status sub-resources, and the v1 endpoints."""

from __future__ import annotations

from harness import ServerTestCase, eventually


def ids(statuses) -> list[str]:
    return [str(s.id) for s in statuses]


class FiltersTest(ServerTestCase):
    def test_a_hiding_and_a_warning_filter(self):
        author = self.user("fauth")
        reader = self.user("fread")
        reader.account_follow(author.me().id)
        hidden = author.status_post("Tonight's episode: the finale explained")
        warned = author.status_post("Some thoughts on the election")
        plain = author.status_post("Nice weather today")
        eventually(lambda: str(plain.id) in ids(reader.timeline_home()), message="posts in home")

        hide = reader.create_filter_v2("Spoilers", ["home", "public"], filter_action="hide",
                                       keywords_attributes=[{"keyword": "finale", "whole_word": True}])
        warn = reader.create_filter_v2("Politics", ["home"], filter_action="warn",
                                       keywords_attributes=[{"keyword": "election", "whole_word": False}])
        self.assertEqual(hide.filter_action, "hide")
        self.assertEqual([k.keyword for k in hide.keywords], ["finale"])
        self.assertEqual(sorted(f.title for f in reader.filters_v2()), ["Politics", "Spoilers"])

        home = reader.timeline_home()
        self.assertNotIn(str(hidden.id), ids(home))
        self.assertIn(str(plain.id), ids(home))
        shown = next(s for s in home if str(s.id) == str(warned.id))
        self.assertEqual(len(shown.filtered), 1)
        self.assertEqual(str(shown.filtered[0].filter.id), str(warn.id))
        self.assertEqual(shown.filtered[0].keyword_matches, ["election"])
        # The public timeline: the hiding filter applies there too, the home-only warning does not.
        public = reader.timeline_public()
        self.assertNotIn(str(hidden.id), ids(public))
        self.assertEqual(next(s for s in public if str(s.id) == str(warned.id)).filtered, [])
        # The author's own timeline is untouched.
        self.assertIn(str(hidden.id), ids(author.timeline_home()))

        # Keywords and statuses as sub-resources.
        keyword = reader.add_filter_keyword_v2(warn.id, "weather", whole_word=True)
        self.assertEqual(len(reader.filter_keywords_v2(warn.id)), 2)
        shown = next(s for s in reader.timeline_home() if str(s.id) == str(plain.id))
        self.assertEqual(shown.filtered[0].keyword_matches, ["weather"])
        reader.delete_filter_keyword_v2(keyword.id)
        entry = reader.add_filter_status_v2(hide.id, plain.id)
        self.assertEqual(str(reader.filter_status_v2(entry.id).status_id), str(plain.id))
        self.assertNotIn(str(plain.id), ids(reader.timeline_home()))
        reader.delete_filter_status_v2(entry.id)
        self.assertIn(str(plain.id), ids(reader.timeline_home()))

        # Updated and deleted, the filters stop applying.
        reader.update_filter_v2(hide.id, filter_action="warn")
        home = reader.timeline_home()
        self.assertEqual(next(s for s in home if str(s.id) == str(hidden.id)).filtered[0].filter.filter_action, "warn")
        reader.delete_filter_v2(hide.id)
        reader.delete_filter_v2(warn.id)
        self.assertEqual(reader.filters_v2(), [])
        self.assertTrue(all(s.filtered == [] for s in reader.timeline_home()))

    def test_v1_filters(self):
        m = self.user("fv1")
        created = m.filter_create("spam", ["home", "notifications"], irreversible=True, whole_word=False)
        self.assertEqual((created.phrase, created.irreversible, created.whole_word), ("spam", True, False))
        self.assertEqual([str(f.id) for f in m.filters()], [str(created.id)])
        self.assertEqual(m.filter(created.id).phrase, "spam")
        updated = m.filter_update(created.id, phrase="scam", context=["public"])
        self.assertEqual((updated.phrase, updated.context), ("scam", ["public"]))
        self.assertEqual(m.filters_v2()[0].keywords[0].keyword, "scam")
        m.filter_delete(created.id)
        self.assertEqual(m.filters(), [])

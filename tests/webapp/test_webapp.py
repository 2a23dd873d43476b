"""The web app and the public pages in a real browser: Playwright for Python driving Debian's
Chromium against a real `starling serve` (tests/e2e/harness.py's Server).

What a person does, as two people side by side: sign up (with the rules), log out and log in
(OAuth authorization code + PKCE through /oauth/authorize), post with an image and its alt
text, a second person (at phone width) follows and sees the post arrive live in home without a
reload, replies and sees the thread, favourites and the author sees the notification, search a
tag, edit a post, delete one, edit the profile, log out (the token is revoked). The public pages
render a profile and a status, with their OpenGraph tags, with JavaScript off. Every page is
checked with axe-core (no serious or critical violations) and saved as a screenshot in
$STARLING_WEBAPP_SCREENSHOTS (default target/webapp-screenshots/). The first load of the app is
measured: first contentful paint (Performance API) and the JavaScript transferred, raw and
gzip-compressed; printed, and asserted under 1 s and 150 KB.

Run: tests/webapp/run.sh (installs Chromium, Playwright, axe-core; builds or takes STARLING_BIN).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
import sys
import time
import unittest
import urllib.request
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import harness  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

SHOTS = Path(os.environ.get("STARLING_WEBAPP_SCREENSHOTS") or REPO / "target" / "webapp-screenshots")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("STARLING_CHROMIUM", "/usr/bin/chromium")
PASSWORD = harness.PASSWORD
WAIT_MS = 15_000

FCP_BUDGET_MS = 1000
JS_BUDGET_BYTES = 150 * 1024


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small valid PNG, made here."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Browser(unittest.TestCase):
    """One server and one Chromium for the module's tests."""

    server: harness.Server
    shots: list[str] = []

    @classmethod
    def setUpClass(cls):
        SHOTS.mkdir(parents=True, exist_ok=True)
        cls.server = harness.Server(env=harness.NO_RATE_LIMITS).start()
        cls.pw = sync_playwright().start()
        cls.browser = cls.pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.pw.stop()
        cls.server.close()

    def context(self, phone: bool = False, **kwargs):
        viewport = {"width": 390, "height": 844} if phone else {"width": 1100, "height": 900}
        # bypass_csp: axe-core is injected as a script the pages' policy would refuse.
        context = self.browser.new_context(base_url=self.server.url, viewport=viewport, bypass_csp=True, **kwargs)
        context.set_default_timeout(WAIT_MS)
        self.addCleanup(context.close)
        return context

    def check(self, page: Page, name: str, axe: bool = True) -> None:
        """Saves a screenshot of the page and runs axe-core on it: no serious or critical violations."""
        page.wait_for_load_state("load")
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        Browser.shots.append(str(path))
        if not axe:
            return
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        minor = [v["id"] for v in violations if v not in bad]
        if minor:
            print(f"  axe on {name}: minor findings {minor}")
        self.assertEqual(bad, [], f"axe-core on {name}: {json.dumps(bad, indent=1)}")

    def api(self, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, object]:
        request = urllib.request.Request(self.server.url + path, method=method, data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


class WebAppTest(Browser):
    def sign_up(self, page: Page, username: str, shot: str | None = None) -> None:
        page.goto("/")
        page.get_by_role("link", name="Sign up").click()
        expect(page.get_by_role("heading", name=re.compile("^Sign up on "))).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("E-mail").fill(f"{username}@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        if shot:
            self.check(page, shot)
        page.get_by_role("button", name="Sign up").click()
        # The agreement is required: the browser keeps the form until it is ticked.
        expect(page.get_by_label("I agree to the rules and the terms of this server")).to_be_visible()
        page.get_by_label("I agree to the rules and the terms of this server").check()
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()
        expect(page.locator(".live.on")).to_be_attached()

    def test_two_people_use_the_app_end_to_end(self):
        alice_name, bob_name = harness.unique("alice"), harness.unique("bob")
        alice = self.context().new_page()
        bob = self.context(phone=True).new_page()
        for p in (alice, bob):
            p.on("dialog", lambda d: d.accept())

        # Sign up (alice from the landing page's link), then log out and log in again through OAuth.
        self.sign_up(alice, alice_name, shot="signup")
        alice.get_by_role("button", name="Log out").click()
        expect(alice.get_by_role("button", name="Log in")).to_be_visible()
        self.check(alice, "welcome")
        alice.get_by_role("button", name="Log in").click()
        alice.wait_for_url("**/oauth/authorize?**")
        self.assertIn("code_challenge_method=S256", alice.url, "PKCE")
        alice.get_by_label("Username or e-mail").fill(alice_name)
        alice.get_by_label("Password").fill(PASSWORD)
        self.check(alice, "login")
        alice.get_by_role("button", name="Authorize").click()
        expect(alice.get_by_role("heading", name="Home", exact=True)).to_be_visible()
        self.assertTrue(alice.url.endswith("/web/home"), alice.url)

        # Bob (phone width) follows alice and waits on his home timeline.
        self.sign_up(bob, bob_name)
        bob.goto(f"/web/@{alice_name}")
        bob.get_by_role("button", name="Follow").click()
        expect(bob.get_by_role("button", name="Unfollow")).to_be_visible()
        self.check(bob, "profile-other-phone")
        bob.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
        expect(bob.get_by_role("heading", name="Home", exact=True)).to_be_visible()
        expect(bob.locator(".live.on")).to_be_attached()
        bob.evaluate("window.__noReload = 1")

        # Alice posts with an image and its alt text; the counter counts by Mastodon's rules.
        box = alice.get_by_role("textbox", name="What is on your mind?")
        box.fill("https://example.org/" + "x" * 200)
        expect(alice.locator(".compose .counter")).to_have_text("477")
        box.fill("Hello from the web app #starlingweb")
        alice.locator(".compose input[type=file]").set_input_files({"name": "square.png", "mimeType": "image/png", "buffer": png()})
        alice.get_by_label("Description (alt text) for square.png").fill("A small red rectangle")
        self.check(alice, "compose")
        alice.get_by_role("button", name="Post", exact=True).click()
        mine = alice.locator("article.status", has_text="Hello from the web app")
        expect(mine).to_have_count(1)
        expect(mine.get_by_role("img", name="A small red rectangle")).to_be_visible()
        self.check(alice, "home")

        # It arrives in bob's home by the stream, without a reload.
        arrived = bob.locator("article.status", has_text="Hello from the web app")
        expect(arrived).to_have_count(1, timeout=harness.SETTLE_SECS * 1000 + WAIT_MS)
        expect(arrived.get_by_role("img", name="A small red rectangle")).to_be_attached()
        self.assertEqual(bob.evaluate("window.__noReload"), 1, "the page was not reloaded")
        self.check(bob, "home-live-phone")

        # A poll: alice asks, bob votes where it arrived.
        alice.get_by_label("Poll", exact=True).check()
        alice.get_by_role("textbox", name="What is on your mind?").fill("Tea or coffee?")
        alice.get_by_label("Poll choice 1").fill("Tea")
        alice.get_by_label("Poll choice 2").fill("Coffee")
        alice.get_by_role("button", name="Post", exact=True).click()
        expect(alice.locator("article.status", has_text="Tea or coffee?").get_by_text("0 votes")).to_be_visible()
        asked = bob.locator("article.status", has_text="Tea or coffee?")
        asked.get_by_label("Tea").check(timeout=harness.SETTLE_SECS * 1000 + WAIT_MS)
        asked.get_by_role("button", name="Vote").click()
        expect(bob.locator("article.status", has_text="Tea or coffee?").get_by_text("1 vote")).to_be_visible()

        # Bob favourites it and replies; the thread shows the reply.
        arrived.get_by_role("button", name="Favourite").click()
        expect(bob.locator("article.status", has_text="Hello from the web app").get_by_role("button", name="Favourite")).to_have_attribute("aria-pressed", "true")
        bob.locator("article.status", has_text="Hello from the web app").get_by_role("button", name="Reply").click()
        reply = bob.get_by_role("textbox", name=f"Reply to @{alice_name}")
        expect(reply).to_be_focused()
        expect(reply).to_have_value(f"@{alice_name} ")
        reply.press("End")
        reply.type("Lovely picture!")
        bob.get_by_role("button", name="Reply", exact=True).last.click()
        expect(bob.locator(".descendants article.status", has_text="Lovely picture!")).to_have_count(1)
        bob.reload()
        expect(bob.locator("article.status.focus", has_text="Hello from the web app")).to_be_visible()
        expect(bob.locator(".descendants article.status", has_text="Lovely picture!")).to_have_count(1)
        self.check(bob, "thread-phone")

        # Bob quotes it (through the API): his post shows alice's inside, small and read-only.
        hello_id = bob.locator("article.status.focus").get_attribute("data-id")
        code, _ = self.api("POST", "/api/v1/statuses", bob.evaluate("localStorage.getItem('starling.token')"), {"status": "Worth a look", "quoted_status_id": hello_id})
        self.assertEqual(code, 200)
        bob.goto(f"/web/@{bob_name}")
        quoted = bob.locator("article.status", has_text="Worth a look").locator("blockquote.quote")
        expect(quoted).to_contain_text("Hello from the web app")
        expect(quoted).to_have_attribute("data-quoted", hello_id)

        # Alice sees the favourite (and the mention) in her notifications.
        alice.get_by_role("link", name="Notifications").click()
        expect(alice.get_by_text("favourited your post")).to_be_visible(timeout=harness.SETTLE_SECS * 1000 + WAIT_MS)
        expect(alice.get_by_text("mentioned you")).to_be_visible()
        self.check(alice, "notifications")

        # Search a tag, open it.
        alice.get_by_role("link", name="Search").click()
        alice.get_by_role("searchbox", name="Search").fill("#starlingweb")
        alice.get_by_role("button", name="Search", exact=True).click()
        tag_link = alice.locator("ul.tags").get_by_role("link", name="#starlingweb")
        expect(tag_link).to_be_visible()
        self.check(alice, "search")
        tag_link.click()
        expect(alice.get_by_role("heading", name="#starlingweb")).to_be_visible()
        expect(alice.locator("article.status", has_text="Hello from the web app")).to_have_count(1)
        self.check(alice, "tag")

        # Edit a post, delete another (own posts only have these buttons).
        alice.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
        box = alice.get_by_role("textbox", name="What is on your mind?")
        box.fill("A typo to fix")
        alice.get_by_role("button", name="Post", exact=True).click()
        typo = alice.locator("article.status", has_text="A typo to fix")
        expect(typo).to_have_count(1)
        typo.get_by_role("button", name="Edit").click()
        editor = alice.get_by_role("form", name="Edit post")
        expect(editor.get_by_role("textbox")).to_have_value("A typo to fix")
        editor.get_by_role("textbox").fill("A typo fixed")
        editor.get_by_role("button", name="Save").click()
        fixed = alice.locator("article.status", has_text="A typo fixed")
        expect(fixed).to_contain_text("Edited")
        fixed.get_by_role("button", name="Delete").click()
        expect(alice.locator("article.status", has_text="A typo fixed")).to_have_count(0)

        # Edit the profile.
        alice.get_by_role("link", name="Profile").click()
        alice.get_by_role("link", name="Edit profile").click()
        alice.get_by_label("Display name").fill("Alice Liddell")
        alice.get_by_label("Bio").fill("Down the rabbit hole.")
        alice.get_by_label("Field 1 label").fill("Garden")
        alice.get_by_label("Field 1 content").fill("Roses, painted red")
        alice.get_by_label("Avatar", exact=True).set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": png(64, 64, (40, 120, 200))})
        alice.get_by_label("Header", exact=True).set_input_files({"name": "wide.png", "mimeType": "image/png", "buffer": png(300, 100, (40, 200, 90))})
        self.check(alice, "edit-profile")
        alice.get_by_role("button", name="Save profile").click()
        expect(alice.get_by_text("Profile saved.")).to_be_visible()
        # The pictures went through the media pipeline (cropped to Mastodon's sizes) and are
        # served at the URLs the account now carries; the header can be removed again.
        me = self.api("GET", "/api/v1/accounts/verify_credentials", alice.evaluate("localStorage.getItem('starling.token')"))[1]
        self.assertNotIn("missing", me["avatar"])
        expect(alice.locator("img.preview.avatar")).to_have_attribute("src", me["avatar"])
        size = alice.evaluate("src => new Promise(ok => { const i = new Image(); i.onload = () => ok([i.naturalWidth, i.naturalHeight]); i.src = src; })", me["avatar"])
        self.assertEqual(size, [400, 400], "the avatar is cropped to 400x400")
        alice.get_by_role("button", name="Remove header").click()
        expect(alice.locator("img.preview.header")).to_have_attribute("src", re.compile("missing"))
        alice.get_by_role("link", name="View profile").click()
        expect(alice.get_by_role("heading", name="Alice Liddell")).to_be_visible()
        expect(alice.get_by_text("Down the rabbit hole.")).to_be_visible()
        expect(alice.get_by_text("Roses, painted red")).to_be_visible()
        self.check(alice, "profile-own")

        # Log out: the token is revoked, not only forgotten.
        token = alice.evaluate("localStorage.getItem('starling.token')")
        self.assertEqual(self.api("GET", "/api/v1/accounts/verify_credentials", token)[0], 200)
        alice.get_by_role("button", name="Log out").click()
        expect(alice.get_by_role("button", name="Log in")).to_be_visible()
        self.assertIsNone(alice.evaluate("localStorage.getItem('starling.token')"))
        harness.eventually(lambda: self.api("GET", "/api/v1/accounts/verify_credentials", token)[0] == 401, message="the token is revoked")

    def test_public_pages_render_with_their_meta_and_without_javascript(self):
        app = harness.register_app(self.server.url)
        carol_name = harness.unique("carol")
        carol = harness.sign_up(self.server.url, app, carol_name)
        status = carol.status_post("Readable without scripts #openweb")
        page = self.context(java_script_enabled=False).new_page()
        page.goto(f"/@{carol_name}")
        expect(page.get_by_text("Readable without scripts")).to_be_visible()
        self.assertEqual(page.locator('meta[property="og:type"]').get_attribute("content"), "profile")
        self.assertEqual(page.locator('meta[property="og:url"]').get_attribute("content"), f"{self.server.url}/@{carol_name}")
        self.check(page, "public-profile", axe=False)
        page.goto(f"/@{carol_name}/{status['id']}")
        self.assertEqual(page.locator('meta[property="og:type"]').get_attribute("content"), "article")
        self.assertIn("Readable without scripts", page.locator('meta[property="og:description"]').get_attribute("content"))
        expect(page.get_by_text("Readable without scripts")).to_be_visible()
        self.assertEqual(page.locator("script").count(), 0)
        self.check(page, "public-status", axe=False)
        # The same pages pass axe (run with scripts on: axe is a script), and lead to the app.
        page = self.context().new_page()
        for path, name in ((f"/@{carol_name}", "public-profile"), (f"/@{carol_name}/{status['id']}", "public-status"), ("/", "landing")):
            page.goto(path)
            self.check(page, name)
        page.get_by_role("link", name="Log in").click()
        page.wait_for_url("**/oauth/authorize?**")
        expect(page.get_by_role("button", name="Authorize")).to_be_visible()

    def test_the_first_load_is_fast_and_small(self):
        # Warm the server's path once (a first request also pays for the process's own start).
        self.api("GET", "/api/v2/instance")
        page = self.context().new_page()
        page.goto("/web", wait_until="networkidle")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
        scripts = page.evaluate(
            """performance.getEntriesByType('resource').filter(r => r.name.endsWith('.js'))
                 .map(r => ({url: r.name, transferred: r.transferSize, encoded: r.encodedBodySize}))"""
        )
        self.assertTrue(scripts, "the app loads its modules")
        raw = sum(s["encoded"] for s in scripts)
        gz = 0
        for s in scripts:
            with urllib.request.urlopen(s["url"], timeout=30) as response:
                self.assertIn("immutable", response.headers["Cache-Control"])
                gz += len(gzip.compress(response.read(), 9))
        print(f"\n  first load of /web: first contentful paint {fcp:.0f} ms; JavaScript {len(scripts)} modules, "
              f"{raw / 1024:.1f} KB as served, {gz / 1024:.1f} KB gzip-compressed")
        self.check(page, "first-load")
        self.assertIsNotNone(fcp)
        self.assertLess(fcp, FCP_BUDGET_MS)
        self.assertLess(gz, JS_BUDGET_BYTES)
        self.assertLess(raw, JS_BUDGET_BYTES, "under budget even uncompressed")


def main() -> int:
    started = time.monotonic()
    module = sys.modules["__main__"]
    loader = unittest.defaultTestLoader
    suite = loader.loadTestsFromNames(sys.argv[1:], module) if len(sys.argv) > 1 else loader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"screenshots: {SHOTS}")
    print(f"webapp: {passed} passed, {failed} failed, {len(result.skipped)} skipped ({time.monotonic() - started:.0f} s)")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

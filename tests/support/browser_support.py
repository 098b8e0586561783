"""Browser tests' helpers (issue 11): Debian's chromium driven by Playwright, axe-core run
on every page visited, a screenshot of every page under ``var/browser-artifacts/``, portal
users made the way ``make run`` makes its demo users, and mail read from the stack's sink."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from tests.support.infra import wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "browser-artifacts"
AXE = ROOT / "gateway" / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct-horse-battery-7"


def make_user(role: str, authority: str | None = None, provider_id: str | None = None,
              email: str | None = None) -> str:
    """An active portal user with ``PASSWORD`` (the first of its principal: administrator)."""
    from gateway.web import accounts
    from services.common.clock import utcnow
    from services.common.runtime import make_engine

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@council.example"
    engine = make_engine(pool_size=1)
    try:
        accounts.create(engine, utcnow(), email=email, name=f"{role.title()} Tester",
                        role=role, authority=authority, provider_id=provider_id,
                        is_admin=True, password=PASSWORD)
    finally:
        engine.dispose()
    return email


class Mailbox:
    def __init__(self, directory: Path):
        self.directory = directory

    def messages(self, to: str) -> list[dict]:
        index = self.directory / "messages.jsonl"
        if not index.exists():
            return []
        rows = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
        return [r for r in rows if to.lower() in [t.lower() for t in r.get("to", [])]]

    def wait(self, to: str, subject: str, after: int = 0, seconds: float = 30) -> dict:
        def found():
            hits = [m for m in self.messages(to) if subject in m.get("subject", "")]
            return hits[after] if len(hits) > after else None

        return wait_for(found, seconds, f"mail '{subject}' to {to}", interval=0.2)

    def count(self, to: str, subject: str) -> int:
        return len([m for m in self.messages(to) if subject in m.get("subject", "")])

    def body(self, message: dict) -> str:
        import email
        import email.policy

        raw = (self.directory / message["file"]).read_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        part = parsed.get_body(("plain", "html"))
        return part.get_content() if part else ""

    def link(self, message: dict, base: str) -> str:
        urls = re.findall(r"https?://[^\s\"'<>]+", self.body(message))
        return next(u for u in urls if u.startswith(base))


class Visitor:
    """One person in one browser context: every page it lands on is checked with axe-core
    (no serious or critical violation) and photographed."""

    def __init__(self, context, base: str, name: str, mailbox: Mailbox):
        self.context = context
        self.page = context.new_page()
        self.base = base
        self.name = name
        self.mailbox = mailbox
        self.step = 0
        self.email = ""

    def check(self, label: str) -> None:
        page = self.page
        page.locator("h1").first.wait_for()  # (wait_for_load_state hangs under eventlet)
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.step:02d}-{slug}.png"),
                        full_page=True)
        page.evaluate(AXE.read_text() + "\n;0")  # through devtools: the page's CSP stays on
        violations = page.evaluate(
            "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
            "'wcag22aa', 'best-practice']}).then(r => r.violations.filter(v => "
            "['serious', 'critical'].includes(v.impact)).map(v => ({id: v.id, impact: "
            "v.impact, nodes: v.nodes.map(n => n.html).slice(0, 3)})))")
        assert violations == [], f"{label} ({page.url}): {violations}"

    def goto(self, path: str, label: str | None = None) -> None:
        self.page.goto(path if path.startswith("http") else self.base + path)
        self.check(label or path)

    def submit(self, button: str, label: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()
        self.check(label)

    def fill(self, fields: dict[str, str]) -> None:
        for field_id, value in fields.items():
            self.page.locator(f"#{field_id}").fill(str(value))

    def sign_in(self, email: str, password: str = PASSWORD, label: str = "sign in") -> None:
        """Password, then the emailed code from the mail sink."""
        before = self.mailbox.count(email, "DPS sign-in code")
        if "/sign-in" not in self.page.url:
            self.goto("/sign-in", f"{label} form")
        self.fill({"email": email, "password": password})
        self.submit("Continue", f"{label} code")
        message = self.mailbox.wait(email, "DPS sign-in code", after=before)
        code = message["subject"].rsplit(" ", 1)[-1]
        self.fill({"code": code})
        self.submit("Sign in", f"{label} done")
        self.email = email

    def heading(self) -> str:
        return self.page.locator("h1").first.inner_text()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (infra/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    # started, never stopped: Playwright.stop() hangs under eventlet's monkey-patching (as
    # does wait_for_load_state); closing the browser ends the driver's work
    p = sync_playwright().start()
    b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                          args=["--no-sandbox", "--disable-dev-shm-usage"])
    yield b
    b.close()


@pytest.fixture(scope="session")
def mailbox(stack) -> Mailbox:
    return Mailbox(stack.mail_dir)


@pytest.fixture
def visitor(browser, stack, mailbox):
    """``visitor(name)`` → a fresh, signed-out person."""
    contexts = []

    def make(name: str) -> Visitor:
        context = browser.new_context(accept_downloads=True)
        contexts.append(context)
        return Visitor(context, stack.url, name, mailbox)

    yield make
    for c in contexts:
        c.close()

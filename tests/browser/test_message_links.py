"""RULES §8: every link in every message template opens a portal page (issue 11). Each
template is rendered with its sample context under the stack's address; every link in the
email (text and HTML) and the SMS is requested signed out and must lead to sign-in and
back to that page, never to a JSON 404. (The story test follows a real invitation's link
to the page itself.)"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from services.notifications.messages import MessageType
from services.notifications.rendering import render
from tests.support.notifications_samples import sample_contexts


def links(text: str, base: str) -> set[str]:
    return {u.rstrip(".,)") for u in re.findall(r"https?://[^\s\"'<>]+", text)
            if u.startswith(base)}


def test_every_link_in_every_message_template_opens_a_portal_page(stack):
    contexts = sample_contexts()
    assert set(contexts) == set(MessageType)
    seen = set()
    for message_type, context in contexts.items():
        rendered = render(message_type, context, base_url=stack.url)
        found = set()
        for part in (rendered.text, rendered.html, rendered.sms or ""):
            found |= links(part, stack.url)
        assert found, f"{message_type} has no link to the portal"
        for link in found:
            parts = urlsplit(link)
            path = parts.path
            wanted = path + (f"?{parts.query}" if parts.query else "")  # the page, with its query
            response = requests.get(link, timeout=10, allow_redirects=False)
            assert response.status_code == 302, (message_type, link, response.status_code)
            target = urlsplit(response.headers["Location"])
            assert target.path == "/sign-in", (message_type, link)
            assert parse_qs(target.query)["next"] == [wanted]
            page = requests.get(stack.url + response.headers["Location"], timeout=10)
            assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
            seen.add(path.split("/")[1])
    assert seen == {"referrals", "applications", "establishments"}

"""The mail sink of a stack (``infra/smtp_sink.py``), as tests read it: what each
recipient received, by email and by SMS through the Notify stand-in."""

from __future__ import annotations

import email
import email.policy
import json


class Sink:
    """What the stack's mail sink kept (``messages.jsonl`` and the ``.eml`` files)."""

    def __init__(self, directory):
        self.directory = directory

    def records(self) -> list[dict]:
        index = self.directory / "messages.jsonl"
        if not index.exists():
            return []
        return [json.loads(line) for line in index.read_text().splitlines() if line.strip()]

    def emails_to_matching(self, fragment: str) -> list[dict]:
        return [r for r in self.records()
                if r["kind"] == "email" and any(fragment in to for to in r["to"])]

    def emails_to(self, addresses: set[str]) -> list[dict]:
        return [r for r in self.records() if r["kind"] == "email" and set(r["to"]) & addresses]

    def sms_to(self, phones: set[str]) -> list[dict]:
        return [r for r in self.records() if r["kind"] == "notify_sms" and set(r["to"]) & phones]

    def text(self, record: dict) -> str:
        raw = (self.directory / record["file"]).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        return "\n".join(
            message.get_body(preferencelist=(kind,)).get_content() for kind in ("plain", "html")
        )

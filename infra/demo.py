"""The demo region for `make run` (idempotent): the seven partner authorities of RULES §1
with a commissioner key each, a lead key, a contract-manager key and an auditor key, a
spread of provider organisations and establishments over the South East, and a
Procurement Act 2023 dynamic market beside the PCR 2015 DPS (RULES §11.1, issue 14).

Keys are shown once and stored hashed, so the demo keeps the ones it made in
``var/demo-keys.json`` and reuses them while they still authenticate.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests

from gateway.auth import create_key
from services.common.config import get_settings
from services.common.runtime import make_engine

ROOT = Path(__file__).resolve().parents[1]
KEYS_FILE = ROOT / "var" / "demo-keys.json"

AUTHORITIES = get_settings().authorities  # RULES §1 (DPS_AUTHORITIES adds associates)

PROVIDERS = [
    ("Downs Learning Trust", "04812345", "admissions@downs-learning.example"),
    ("Weald Family Fostering", "05123987", "referrals@weald-fostering.example"),
    ("Harbour Children's Homes", "06234511", "placements@harbour-homes.example"),
    ("Thames Gateway Education", "07345622", "office@tg-education.example"),
    ("North Downs Care Group", "08456733", "referrals@northdowns-care.example"),
    ("Seaside Supported Living", "09567844", "hello@seaside-living.example"),
    ("Chiltern Specialist Schools", "03678955", "admissions@chiltern-ss.example"),
    ("Medway Valley Foster Care", "02789066", "team@mvfc.example"),
]


class Client:
    def __init__(self, url: str, key: str | None = None):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, idem: str | None = None, **kwargs):
        headers = {"Idempotency-Key": idem} if idem else {}
        response = self.session.request(method, self.url + path, headers=headers,
                                        timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {response.status_code} {response.text}")
        return response.json() if response.content else None


def _keys(url: str) -> dict:
    known = json.loads(KEYS_FILE.read_text()) if KEYS_FILE.exists() else {}
    wanted = {"lead": ("lead", None), "contract_manager": ("contract_manager", None),
              "auditor": ("auditor", None)}
    wanted.update({f"commissioner:{code}": ("commissioner", code) for code in AUTHORITIES})
    engine = make_engine(pool_size=1)
    try:
        for name, (role, authority) in wanted.items():
            key = known.get(name)
            alive = key and requests.get(f"{url}/api/v1/dps", timeout=10, headers={
                "Authorization": f"Bearer {key}"}).status_code != 401
            if not alive:
                known[name] = create_key(engine, role, f"demo {name}", authority)[1]
    finally:
        engine.dispose()
    KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    KEYS_FILE.write_text(json.dumps(known, indent=2))
    return known


def _providers(url: str, keys: dict) -> dict[str, dict]:
    """Register the demo provider organisations (Idempotency-Key makes it repeatable)."""
    anonymous = Client(url)
    providers = {}
    for name, number, email in PROVIDERS:
        stored = keys.get(f"provider:{name}")
        if stored:
            providers[name] = stored
            continue
        created = anonymous.call("POST", "/api/v1/providers", idem=f"demo-provider-{number}",
                                 json={"name": name, "companies_house_number": number,
                                       "contact_email": email})
        providers[name] = keys[f"provider:{name}"] = {"id": created["id"],
                                                      "api_key": created["api_key"]}
    KEYS_FILE.write_text(json.dumps(keys, indent=2))
    return providers


DEMO_PASSWORD = "demo-portal-2026-placements"  # noqa: S105 - the demo only; RULES §12 length


def _portal_users(providers: dict) -> list[tuple[str, str]]:
    """One portal user (its principal's administrator) per demo principal, with the demo
    password; the second factor is emailed to the mail sink (RULES §12). Idempotent."""
    from gateway.web import accounts
    from services.common.clock import utcnow

    wanted = [("lead@wscc.demo.example", "Lee Lead", "lead", None, None),
              ("contracts@dps.demo.example", "Cath Contracts", "contract_manager", None, None),
              ("audit@dps.demo.example", "Ali Auditor", "auditor", None, None)]
    wanted += [(f"placements@{code.lower()}.demo.example", f"{code} placement officer",
                "commissioner", code, None) for code in AUTHORITIES]
    wanted += [(f"admin@{p['email'].split('@')[1]}", f"{name} administrator", "provider",
                None, p["id"]) for name, p in providers.items() if p.get("email")]
    engine = make_engine(pool_size=1)
    try:
        for email, name, role, authority, provider_id in wanted:
            if accounts.by_email(engine, email) is None:
                accounts.create(engine, utcnow(), email=email, name=name, role=role,
                                authority=authority, provider_id=provider_id, is_admin=True,
                                password=DEMO_PASSWORD)
    finally:
        engine.dispose()
    return [(email, role + (f" {authority}" if authority else "")) for email, _, role,
            authority, _ in wanted]


def load(url: str) -> None:
    keys = _keys(url)
    providers = _providers(url, keys)
    emails = {name: email for name, _, email in PROVIDERS}
    users = _portal_users({name: {**p, "email": emails.get(name)}
                           for name, p in providers.items()})
    try:
        from infra.demo_region import load_region
    except ModuleNotFoundError:  # establishments and memberships come with qualification
        load_region = None
    if load_region is not None:
        load_region(Client, url, keys, providers)
        from infra.demo_region import load_dynamic_market

        load_dynamic_market(Client, url, keys, providers)  # §11.1: both regimes to try
    _print(url, keys, providers)
    _print_users(url, users)


def _print_users(url: str, users: list[tuple[str, str]]) -> None:
    print(f"Web portal: open {url}/ and sign in as any of these (password {DEMO_PASSWORD});")
    print("the 6-digit code arrives in the mail sink: the 'smtp' lines below show it.")
    for email, role in users:
        print(f"  {role:22} {email}")
    print()


def _print(url: str, keys: dict, providers: dict) -> None:
    print(f"\nDPS platform is up at {url}\n")
    print(f"  lead (WSCC):        {keys['lead']}")
    print(f"  contract manager:   {keys['contract_manager']}")
    print(f"  auditor:            {keys['auditor']}")
    for code, name in AUTHORITIES.items():
        print(f"  commissioner {code:5} {keys[f'commissioner:{code}']}  ({name})")
    for name, p in providers.items():
        print(f"  provider  {p['api_key']}  ({name})")
    print("\nAlerts go to the local mail sink: var/mail/ (.eml files, messages.jsonl) and the")
    print("lines tagged 'smtp' below.")
    print(f"\nTry:  curl {url}/health")
    print(f"      curl -H 'Authorization: Bearer {keys['lead']}' {url}/api/v1/dps\n")

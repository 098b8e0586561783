"""Use cases of the notifications service (RULES §8), plain functions the nameko
entrypoints of ``service.py`` call; they import no nameko and reach persistence only
through ``uow.store``, so a fake unit of work unit-tests them.

- ``recipients``: qualification's events keep providers' and establishments' contacts,
  and record the membership messages (RULES §4.3, §4.5, §8).
- ``referrals``: referral's events keep referrals and invitations, and record the
  referral messages (RULES §5, §8).
- ``recording``: render and record the deliveries of planned messages (idempotent per
  event, recipient, channel and type). Nothing is sent by an event handler.
- ``sending``: the sender timer: claim due deliveries under the shared rate limit, send,
  record each outcome (the claim/lease logic lives there alone).
- ``reminders``: the 24-hour deadline reminder timer.
- ``queries``: the gateway's listing of deliveries and GOV.UK Notify receipts.
"""

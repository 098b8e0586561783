"""The referral service: owns referrals, the mini-competition for a child's placement
(RULES §5): drafting and publishing to the eligible establishments, invitations and their
snapshots, declines, clarification questions, sealed bids and their pricing (§4.4), the
deadline, outcome scores and evaluation through the scoring service (§6), the parents'
choice (§6.4), the award and each bidder's feedback, direct placements (§5, business case
8.10), who may see what of it (§10, ``access.py``) and its audit trail (§9).

Layout: ``service.py`` (nameko entrypoints), ``handlers/`` (use cases), ``domain/`` (the
``Referral`` aggregate and its rules), ``access.py`` (§10), ``store/`` (tables, codecs,
repository), ``peers.py`` (calls to qualification and scoring), ``config.py``,
``messages.py`` (the published language: the only module other services import).
"""

"""``dps evaluation replay REFERRAL_ID`` (RULES §6, issue 15): recompute a stored
evaluation from its stored inputs and report every difference.

The evaluation and its inputs are read straight from the referral service's schema (like
``dps audit verify``: an operator's check must not trust the service it checks); the
totals are recomputed by the scoring service's own rules (``scoring.replay`` over RPC), and
compared, bid by bid, with what was recorded: compliance, each exact sub-score and total,
the rank, the lowest compliant price and the shortlist. Exit status: 0 no difference, 1 a
difference, 2 nothing replayed (unknown referral, not evaluated, evaluated before its
inputs were kept, or the scoring service did not answer).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from services.common.config import get_settings, nameko_config
from services.scoring.messages import (
    SERVICE_NAME,
    RecordedBidMsg,
    ReplayRequest,
    ReplayResult,
    ScoreInputsMsg,
)

INPUT_COLUMNS = tuple(ScoreInputsMsg.model_fields)


class NothingToReplay(Exception):
    pass


def stored(engine, referral_id: str) -> tuple[dict, dict[str, dict]]:
    """The ``evaluations`` row and ``{bid_id: evaluation_inputs row}``."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM referral.evaluations WHERE referral_id = :r"), {"r": referral_id}
        ).mappings().first()
        inputs = conn.execute(
            text("SELECT * FROM referral.evaluation_inputs WHERE referral_id = :r"),
            {"r": referral_id},
        ).mappings().all()
    if row is None:
        raise NothingToReplay(f"referral {referral_id}: no stored evaluation")
    if row["weights"] is None:
        raise NothingToReplay(f"referral {referral_id}: evaluated before its inputs were kept")
    return dict(row), {i["bid_id"]: dict(i) for i in inputs}


def request_of(evaluation: dict, inputs: dict[str, dict]) -> ReplayRequest:
    missing = [r["bid_id"] for r in evaluation["ranking"] if r["bid_id"] not in inputs]
    if missing:
        raise NothingToReplay(f"no stored inputs for bids {', '.join(missing)}")
    return ReplayRequest(
        weights=evaluation["weights"],
        bids=[
            RecordedBidMsg(
                bid_id=r["bid_id"],
                compliant=inputs[r["bid_id"]]["compliant"],
                inputs={c: inputs[r["bid_id"]][c] for c in INPUT_COLUMNS},
            )
            for r in evaluation["ranking"]
        ],
    )


def differences(evaluation: dict, result: ReplayResult) -> list[str]:
    """Every way the recomputation differs from what was recorded."""
    out = []
    if evaluation["formula_version"] != result.formula_version:
        out.append(
            f"formula version: recorded {evaluation['formula_version']}, "
            f"replayed with {result.formula_version}"
        )
    lowest = evaluation["lowest_price"]
    if lowest != result.lowest_price:
        out.append(
            f"lowest compliant weekly price: stored {lowest}, replayed {result.lowest_price}"
        )
    replayed = {b.bid_id: b for b in result.bids}
    for r in evaluation["ranking"]:
        bid_id, again = r["bid_id"], replayed[r["bid_id"]]
        pairs = [
            ("compliant", r["compliant"], again.compliant),
            ("total", r["total_exact"], again.total_exact),
            ("rank", r["rank"], again.rank),
        ]
        recorded_sub = r.get("subscores_exact") or {}
        pairs += [
            (f"sub-score {c}", v, (again.subscores_exact or {}).get(c))
            for c, v in recorded_sub.items()
        ]
        out += [f"bid {bid_id}: {name} stored {a}, replayed {b}" for name, a, b in pairs if a != b]
    if list(evaluation["shortlist"]) != result.shortlist:
        out.append(f"shortlist: stored {evaluation['shortlist']}, replayed {result.shortlist}")
    return out


def replay(referral_id: str, echo: Callable[[str], None]) -> int:
    """Run the replay and print the report; the exit status."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.runtime import make_engine

    engine = make_engine(pool_size=1)
    try:
        evaluation, inputs = stored(engine, referral_id)
        request = request_of(evaluation, inputs)
    except NothingToReplay as exc:
        echo(str(exc))
        return 2
    finally:
        engine.dispose()
    try:
        with ClusterRpcProxy(nameko_config(get_settings()), timeout=30) as rpc:
            reply = getattr(rpc, SERVICE_NAME).replay(request.model_dump(mode="json"))
    except Exception as exc:  # noqa: BLE001 (unreachable is not a difference: exit 2)
        echo(f"the scoring service did not answer: {type(exc).__name__}: {exc}")
        return 2
    result = ReplayResult.model_validate(reply)
    for b in result.bids:
        echo(f"bid {b.bid_id}: compliant={b.compliant} rank={b.rank} total={b.total_exact}")
    found = differences(evaluation, result)
    for d in found:
        echo(f"DIFFERENCE {d}")
    echo(f"referral {referral_id}: {len(found)} difference(s)" if found else
         f"referral {referral_id}: no difference (formula {result.formula_version})")
    return 1 if found else 0

"""Start a scoring process: ``python -m services.scoring.run [--config infra/nameko.yaml]``.

It reads ``ScoringConfig`` when the process starts (``SCORING_CATEGORIES``: comma-separated
codes, e.g. ``SEN``; unset or empty: every category) and runs, as ``nameko run`` would,
``ScoringService`` (``scoring``: ping, weights) and the ``scoring_<category>`` service of each
chosen category (DESIGN "Scoring can be run per category"). An unknown code stops the process
before anything starts, with the message naming it. The other options are ``nameko run``'s
(``--config``, ``--broker``, ``--backdoor-port``).

How ops scale one category alone (e.g. SEN gets its own workers):

1. Run a dedicated deployment (or Procfile line) for that category, as many replicas as
   it needs::

       SCORING_CATEGORIES=SEN python -m services.scoring.run --config infra/nameko.yaml

2. Run the general deployment with the other categories only::

       SCORING_CATEGORIES=FOSTERCARE,RESIDENTIAL,ALT_EDUCATION,SUPPORTED_ACCOMMODATION \\
           python -m services.scoring.run --config infra/nameko.yaml

   (Leaving it with every category also works: both deployments then consume SEN work,
   as competing consumers of the ``rpc-scoring_sen`` queue.)

Every process also hosts ``scoring`` (ping, weights), so health checks and referral
creation keep working whichever deployment is up. Instances of one service name are
competing consumers of its RabbitMQ queue: adding replicas adds throughput for that
category only, and a slow category cannot starve the others. ``DPS_MAX_WORKERS`` bounds
the concurrent scorings per process.

Nothing here runs at import: ``main`` monkey-patches with eventlet first, as ``nameko run``
does, then imports the services.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

SERVICE_MODULE = "services.scoring.service"


def hosted_services(categories: Sequence[str]) -> list[type]:
    """``ScoringService`` and the service class of each of ``categories``."""
    from services.scoring.service import SERVICE_OF_CATEGORY, ScoringService

    return [ScoringService, *(SERVICE_OF_CATEGORY[c] for c in categories)]


def service_paths(categories: Sequence[str]) -> list[str]:
    """The ``module:Class`` arguments ``nameko run`` takes for ``hosted_services``."""
    return [f"{SERVICE_MODULE}:{cls.__name__}" for cls in hosted_services(categories)]


def nameko_argv(argv: Sequence[str], categories: Sequence[str]) -> list[str]:
    """``nameko run`` arguments: the caller's options, then the chosen service classes."""
    return ["run", *argv, *service_paths(categories)]


def main(argv: Sequence[str] | None = None) -> None:
    import eventlet

    eventlet.monkey_patch()  # before the services are imported, as ``nameko run`` does

    from nameko.cli.main import setup_parser, setup_yaml_parser
    from nameko.exceptions import CommandError, ConfigurationError
    from pydantic import ValidationError

    from services.scoring.config import ScoringConfig

    try:
        categories = ScoringConfig().scoring_categories
    except ValidationError as exc:  # an unknown code in SCORING_CATEGORIES
        sys.exit(f"Error: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
    args = setup_parser().parse_args(
        nameko_argv(sys.argv[1:] if argv is None else argv, categories)
    )
    setup_yaml_parser()  # ``${VAR:default}`` in the YAML config, as ``nameko run``
    try:
        args.main(args)
    except (CommandError, ConfigurationError) as exc:
        sys.exit(f"Error: {exc}")


if __name__ == "__main__":
    main()

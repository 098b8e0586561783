"""Which scoring services a process hosts (DESIGN "Scoring can be run per category"):
every class is defined at import without reading the environment; ``SCORING_CATEGORIES`` is
read when the process starts (``ScoringConfig``, ``services.scoring.run``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from nameko.cli.run import import_service

from services.scoring import run, service
from services.scoring.config import ScoringConfig
from services.scoring.messages import CATEGORIES, scoring_service_name

ROOT = Path(__file__).resolve().parents[3]


def python(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "SCORING_CATEGORIES"}
    return subprocess.run([sys.executable, *code_or_args], cwd=ROOT, env={**environ, **env},
                          capture_output=True, text=True, timeout=60)


def test_every_category_service_is_defined_at_import():
    assert {cls.name for cls in service.CATEGORY_SERVICES} == {
        scoring_service_name(c) for c in CATEGORIES
    }
    assert list(service.SERVICE_OF_CATEGORY) == list(CATEGORIES)
    for code, cls in service.SERVICE_OF_CATEGORY.items():
        assert cls.name == scoring_service_name(code)
        assert getattr(service, cls.__name__) is cls  # ``module:Class`` finds it


def test_importing_the_service_reads_no_environment():
    """Even a bad ``SCORING_CATEGORIES`` does not matter at import: the process start says."""
    probe = python(["-c", "from services.scoring import service; "
                          "print(len(service.CATEGORY_SERVICES))"], SCORING_CATEGORIES="KIDS")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split()[-1] == "5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, CATEGORIES),
        ("", CATEGORIES),
        ("SEN", ("SEN",)),
        (" sen, FOSTERCARE ,sen,", ("SEN", "FOSTERCARE")),
    ],
)
def test_scoring_config_reads_scoring_categories(monkeypatch, value, expected):
    monkeypatch.delenv("SCORING_CATEGORIES", raising=False)
    if value is not None:
        monkeypatch.setenv("SCORING_CATEGORIES", value)
    assert ScoringConfig().scoring_categories == expected


def test_scoring_config_refuses_an_unknown_category(monkeypatch):
    monkeypatch.setenv("SCORING_CATEGORIES", "SEN,KIDS")
    with pytest.raises(ValueError, match="SCORING_CATEGORIES: unknown categories KIDS"):
        ScoringConfig()


def test_a_process_hosts_scoring_and_the_chosen_categories():
    assert run.hosted_services(("SEN",)) == [service.ScoringService, service.ScoringSenService]
    assert run.hosted_services(CATEGORIES) == [service.ScoringService,
                                               *service.CATEGORY_SERVICES]
    paths = run.service_paths(("FOSTERCARE", "SEN"))
    assert paths == [
        "services.scoring.service:ScoringService",
        "services.scoring.service:ScoringFostercareService",
        "services.scoring.service:ScoringSenService",
    ]
    assert [cls.name for p in paths for cls in import_service(p)] == [
        "scoring", "scoring_fostercare", "scoring_sen",
    ]
    assert run.nameko_argv(["--config", "infra/nameko.yaml"], ("SEN",)) == [
        "run", "--config", "infra/nameko.yaml", *run.service_paths(("SEN",)),
    ]


def test_an_unknown_scoring_category_stops_the_process_at_start():
    started = python(["-m", "services.scoring.run", "--config", "infra/nameko.yaml"],
                     SCORING_CATEGORIES="SEN,KIDS")
    assert started.returncode == 1
    assert "Error: SCORING_CATEGORIES: unknown categories KIDS" in started.stderr


def test_every_scoring_container_validates_scoring_categories_at_start(monkeypatch):
    """However a scoring service is launched (``nameko run services.scoring.service`` too),
    its ``Config`` dependency reads ``ScoringConfig`` at container start."""
    monkeypatch.setenv("SCORING_CATEGORIES", "KIDS")
    for cls in (service.ScoringService, *service.CATEGORY_SERVICES):
        provider = cls.config
        with pytest.raises(ValueError, match="unknown categories KIDS"):
            provider.setup()

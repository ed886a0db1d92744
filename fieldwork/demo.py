"""The whole demo study, domain by domain: the sample frame first, then what builds on it."""

from __future__ import annotations

from fieldwork.sampling.demo import DEMO_LOGINS, load_demo
from fieldwork.sampling.models import Study

__all__ = ["DEMO_LOGINS", "load_demo_study"]


def load_demo_study() -> Study:
    """Load the demo study with its recruitment history (the database must not hold it yet)."""
    from fieldwork.recruitment.demo import load_recruitment_demo

    study = load_demo()
    load_recruitment_demo(study)
    return study

"""JSON API of coverage: every figure of a study's dashboard, at
/api/v1/studies/{slug}/coverage (and, deprecated, /api/v1/coverage?study=<slug>).

Readable by everyone logged in (the figures are counts, no personal data).
"""

from __future__ import annotations

from typing import Any

from fieldwork.api.blueprint import ApiBlueprint
from fieldwork.coverage import records, schemas, services
from fieldwork.coverage.rates import DEFINITIONS
from fieldwork.sampling.api import study_or_404

blueprint = ApiBlueprint("coverage_api", __name__, description="Quota coverage of a study.")


def _coverage(slug: str) -> dict[str, Any]:
    board = services.dashboard(study_or_404(slug))
    return {
        "study": board.study,
        "generated_at": board.generated_at,
        "total_target": board.total_target,
        "cells": records.records(board),
        "weeks": board.weeks,
        "definitions": [
            {"key": key, "name": name, "formula": formula} for key, name, formula in DEFINITIONS
        ],
    }


@blueprint.get("/studies/<slug>/coverage")
@blueprint.response(200, schemas.Coverage)
def get_coverage(slug: str) -> dict[str, Any]:
    """Quota coverage of a study

    Every figure of the coverage dashboard: one object per role × phase cell, finer cell,
    phase total and the overall total (the rows of /coverage.csv), progress by week, and the
    rates' definitions. Anyone logged in may read it.
    """
    return _coverage(slug)


@blueprint.get("/coverage")
@blueprint.deprecated
@blueprint.arguments(schemas.StudyArguments, location="query", as_kwargs=True)
@blueprint.response(200, schemas.Coverage)
@blueprint.alt_response(404, response="NOT_FOUND")
def get_coverage_by_query(study: str) -> dict[str, Any]:
    """Quota coverage of a study (deprecated path)

    The same as /studies/{slug}/coverage, the study named by `?study=`.
    """
    return _coverage(study)

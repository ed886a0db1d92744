"""The home page panels of calendar replies, as `(template, context)` pairs; the home package
registers them (`fieldwork.home.panels`), so replies never imports home."""

from __future__ import annotations

from fieldwork.accounts.models import User
from fieldwork.core.pagination import paginate
from fieldwork.replies import services
from fieldwork.sampling.models import Study

#: Rows a panel shows before "and N more".
PANEL_ROWS = 10


def declines_panel(user: User, study: Study) -> tuple[str, dict] | None:
    """Interviews still booked that the participant declined in their calendar: to rebook.
    Coordinators see the study's; interviewers their own. Left out when there are none."""
    declines = paginate(services.declines_for(study, user), 1, PANEL_ROWS)
    if not declines.total:
        return None
    return "replies/_home_declines.html", {"declines": declines}


def answers_panel(user: User, study: Study) -> tuple[str, dict]:
    """Interviewers: the latest answer of each person to their interviews ahead."""
    answers = paginate(services.answers_to_interviewer(study, user), 1, PANEL_ROWS)
    return "replies/_home_answers.html", {"answers": answers}

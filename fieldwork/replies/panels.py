"""The home page panels of calendar replies (registered in `fieldwork.replies.init_app`)."""

from __future__ import annotations

from fieldwork import home
from fieldwork.accounts.models import User
from fieldwork.core.pagination import paginate
from fieldwork.replies import services
from fieldwork.sampling.models import Study

#: Rows a panel shows before "and N more".
PANEL_ROWS = 10


def declines_panel(user: User, study: Study) -> home.Panel | None:
    """Interviews still booked that the participant declined in their calendar: to rebook.
    Coordinators see the study's; interviewers their own. Left out when there are none."""
    declines = paginate(services.declines_for(study, user), 1, PANEL_ROWS)
    if not declines.total:
        return None
    return home.Panel("replies/_home_declines.html", {"declines": declines})


def answers_panel(user: User, study: Study) -> home.Panel:
    """Interviewers: the latest answer of each person to their interviews ahead."""
    answers = paginate(services.answers_to_interviewer(study, user), 1, PANEL_ROWS)
    return home.Panel("replies/_home_answers.html", {"answers": answers})

"""A topic guide per role, linked from the interviewer's invitation."""

from __future__ import annotations

from sqlalchemy import select

from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.models import Role
from fieldwork.scheduling.models import (
    TopicGuide,
)

# --- Topic guides ----------------------------------------------------------------------------


def topic_guide_for_role(role_id: int) -> TopicGuide | None:
    return db.session.scalar(select(TopicGuide).where(TopicGuide.role_id == role_id))


def save_topic_guide(role: Role, title: str, url: str) -> TopicGuide | None:
    """Attach (or replace) the role's topic guide; an empty URL removes it."""
    with transaction():
        guide = topic_guide_for_role(role.id)
        if not url.strip():
            if guide is not None:
                db.session.delete(guide)
            return None
        if guide is None:
            guide = TopicGuide(role_id=role.id, title=title.strip(), url=url.strip())
            db.session.add(guide)
        else:
            guide.title = title.strip()
            guide.url = url.strip()
    return guide

"""`flask --app app erase-participant REFERENCE [--yes]`: an erasure request that arrived
outside the tool (a letter, a phone call) carried out with the same service as the page."""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    @app.cli.command("erase-participant")
    @click.argument("reference")
    @click.option(
        "--study",
        "study_slug",
        default="",
        help="The study's short name, when several studies have a participant with this reference.",
    )
    @click.option("--yes", is_flag=True, help="Do not ask before erasing.")
    def erase_participant(reference: str, study_slug: str, yes: bool) -> None:
        """Withdraw (if not yet withdrawn) and erase the personal data of the participant
        with this pseudonymous REFERENCE, everywhere the app keeps it."""
        from fieldwork.recruitment.consent import withdraw
        from fieldwork.recruitment.erasure import (
            erase_personal_data,
            is_erased,
            participants_with_reference,
        )
        from fieldwork.recruitment.models import DataHandling
        from fieldwork.recruitment.status import RecruitmentError
        from fieldwork.sampling.models import RecruitmentStatus

        found = participants_with_reference(reference, study_slug)
        if not found:
            raise click.ClickException(f"No participant has the reference {reference!r}.")
        if len(found) > 1:
            raise click.ClickException(
                f"{len(found)} studies have a participant {reference}; name one with --study."
            )
        participant = found[0]
        if is_erased(participant):
            raise click.ClickException(f"{reference}'s personal data is already erased.")
        if not yes:
            click.confirm(
                f"Erase the name, contact details and notes of {reference} everywhere "
                "(messages, appointments, audit trail)? This cannot be undone.",
                abort=True,
            )
        try:
            if participant.status != RecruitmentStatus.WITHDRAWN:
                withdraw(
                    participant,
                    None,
                    reason="Erasure requested outside the tool",
                    data_handling=DataHandling.KEEP_ANONYMISED,
                )
                click.echo(f"{reference} withdrawn; their future appointments are cancelled.")
            erase_personal_data(participant, None)
        except RecruitmentError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Erased the personal data of {reference}.")

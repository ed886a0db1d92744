"""The app a scheduler subprocess runs in the tests: the factory's app, with the reminders
package registered if the factory does not do it (yet)."""

from fieldwork import create_app

app = create_app()
if "reminders" not in app.blueprints:
    from fieldwork import reminders

    reminders.init_app(app)

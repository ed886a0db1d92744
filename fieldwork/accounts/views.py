"""Log in and out, the account page (preferences, password, API tokens), managing users."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from fieldwork.accounts import services
from fieldwork.accounts.access import coordinator_required, is_safe_next
from fieldwork.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    PreferencesForm,
    TokenForm,
    UserForm,
)
from fieldwork.accounts.models import User
from fieldwork.core.web import public
from fieldwork.extensions import db, limiter

blueprint = Blueprint("accounts", __name__)


def _submitted_email() -> str:
    return "login:" + request.form.get("email", "").strip().lower()[:254]


def _login_failed(response) -> bool:
    """Only failed attempts count towards the limits (a successful login redirects)."""
    return response.status_code == 422


LOCKED_OUT = "Too many failed logins. Wait 15 minutes, then try again (or ask a coordinator)."


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: f"{current_app.config['LOGIN_FAILURES_PER_ACCOUNT']} per 15 minutes",
    key_func=_submitted_email,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=LOCKED_OUT,
)
@limiter.limit(
    lambda: f"{current_app.config['LOGIN_FAILURES_PER_ADDRESS']} per 15 minutes",
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=LOCKED_OUT,
)
@public
def login():
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("The email address or password is not right.")
        else:
            session.clear()  # a fresh session at every login: no fixation
            login_user(user, remember=form.remember.data)
            flash(f"Welcome, {user.name}.", "success")
            return redirect(next_url if is_safe_next(next_url) else url_for("home.index"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@blueprint.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You have logged out.", "success")
    return redirect(url_for("accounts.login"))


def _submitted(prefix: str) -> bool:
    """True when this POST carries the fields of the form with `prefix` (one page, many forms)."""
    return request.method == "POST" and any(key.startswith(prefix + "-") for key in request.form)


@blueprint.route("/account", methods=["GET", "POST"])
def account():
    preferences = PreferencesForm(obj=current_user, prefix="prefs")
    password_form = PasswordChangeForm(prefix="pw")
    token_form = TokenForm(prefix="token")
    if _submitted("prefs") and preferences.validate_on_submit():
        current_user.name = preferences.name.data.strip()
        current_user.timezone = preferences.timezone.data
        db.session.commit()
        flash("Your preferences are saved.", "success")
        return redirect(url_for("accounts.account"))
    new_token = None
    if _submitted("token") and token_form.validate_on_submit():
        _, new_token = services.create_api_token(current_user, token_form.label.data or "")
        flash("Your new token is shown below. Copy it now: it will not be shown again.", "success")
    status = 422 if (preferences.errors or token_form.errors) else 200
    return render_template(
        "accounts/account.html",
        preferences=preferences,
        password_form=password_form,
        token_form=token_form,
        tokens=services.list_api_tokens(current_user),
        new_token=new_token,
    ), status


@blueprint.post("/account/password")
def change_password():
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("Your current password is not right.")
        else:
            services.change_password(current_user, form.new_password.data)
            # The session version changed: log this session in again (the real user, not
            # the proxy, or current_user would resolve to itself).
            login_user(current_user._get_current_object())
            flash("Your password is changed. Other sessions have been logged out.", "success")
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html",
        preferences=PreferencesForm(obj=current_user, prefix="prefs"),
        password_form=form,
        token_form=TokenForm(prefix="token"),
        tokens=services.list_api_tokens(current_user),
        new_token=None,
    ), 422


@blueprint.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    # CSRFProtect has already checked the form's token.
    try:
        token = services.revoke_api_token(current_user, token_id)
    except services.AccountError:
        abort(404)
    flash(f"The token {token.prefix}… is revoked; it no longer works.", "success")
    return redirect(url_for("accounts.account"))


@blueprint.get("/users")
@coordinator_required
def users():
    return render_template("accounts/users.html", users=services.list_users())


@blueprint.route("/users/new", methods=["GET", "POST"])
@coordinator_required
def new_user():
    form = UserForm(require_password=True)
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.email.data,
                form.name.data,
                form.role.data,
                form.password.data,
                form.timezone.data,
            )
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            if not form.is_enabled.data:
                user.is_enabled = False
                db.session.commit()
            flash(f"{user.name} can now log in as {user.role.value}.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None), (
        422 if form.errors else 200
    )


@blueprint.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.password.data = ""
    if form.validate_on_submit():
        if user.id == current_user.id and (
            not form.is_enabled.data or form.role.data != "coordinator"
        ):
            form.role.errors.append("You cannot take away your own coordinator access.")
        else:
            try:
                services.update_user(
                    user,
                    name=form.name.data,
                    email=form.email.data,
                    role=form.role.data,
                    timezone=form.timezone.data,
                    is_enabled=form.is_enabled.data,
                )
                if form.password.data:
                    services.change_password(user, form.password.data)
            except services.AccountError as error:
                form.email.errors.append(str(error))
            else:
                flash(f"{user.name}'s account is saved.", "success")
                return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user), (
        422 if form.errors else 200
    )

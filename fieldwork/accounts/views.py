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

from fieldwork.accounts import invitations, services
from fieldwork.accounts.access import administrator_required, coordinator_required, is_safe_next
from fieldwork.accounts.forms import (
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    PasswordChangeForm,
    PreferencesForm,
    SetPasswordForm,
    TokenForm,
    UserForm,
)
from fieldwork.accounts.models import User, UserRole
from fieldwork.core.web import public
from fieldwork.extensions import limiter

blueprint = Blueprint("accounts", __name__)


def _account_at_address() -> str:
    """The key of the per-account limit: the account AND the address it is tried from, so
    failures elsewhere never lock the owner out."""
    email = request.form.get("email", "").strip().lower()[:254]
    return f"login:{email}@{request.remote_addr or '?'}"


def _login_failed(response) -> bool:
    """Only failed attempts count towards the limits (a successful login redirects)."""
    return response.status_code == 422


LOCKED_OUT = (
    "Too many failed logins from here. Wait 15 minutes, then try again (or ask a coordinator)."
)


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: f"{current_app.config['LOGIN_FAILURES_PER_ACCOUNT']} per 15 minutes",
    key_func=_account_at_address,
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


def _end_this_session() -> None:
    """Log out here; Flask-Login's instruction to delete the remember-me cookie survives."""
    logout_user()
    remember = session.get("_remember")
    session.clear()
    if remember:
        session["_remember"] = remember


@blueprint.post("/logout")
def logout():
    # Server-side: the session version moves on, so a copied session or remember-me cookie
    # stops working (this signs the user out on their other devices too).
    services.end_sessions(current_user._get_current_object())
    _end_this_session()
    flash("You have logged out.", "success")
    return redirect(url_for("accounts.login"))


@blueprint.post("/account/sign-out-everywhere")
def sign_out_everywhere():
    services.end_sessions(current_user._get_current_object())
    _end_this_session()
    flash("You are signed out on every device, this one included.", "success")
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
        services.save_preferences(
            current_user._get_current_object(),
            name=preferences.name.data,
            timezone=preferences.timezone.data,
        )
        flash("Your preferences are saved.", "success")
        return redirect(url_for("accounts.account"))
    new_token = None
    if _submitted("token") and token_form.validate_on_submit():
        _, new_token = services.create_api_token(
            current_user, token_form.label.data or "", token_form.scope.data
        )
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
            try:
                services.change_password(current_user, form.new_password.data)
            except services.AccountError as error:
                form.new_password.errors.append(str(error))
            else:
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


def _current_study_or_none():
    from fieldwork.core.studies import current_study

    return current_study()


def _member_of_current_study_or_404(user_id: int) -> tuple[User, UserRole | None]:
    """A user of the study being worked on (any user, for an administrator); else 404."""
    user = services.get_user(user_id)
    if user is None:
        abort(404)
    study = _current_study_or_none()
    role = user.role_in(study.id) if study is not None else None
    if role is None and not current_user.is_administrator:
        abort(404)
    return user, role


@blueprint.get("/users")
@coordinator_required
def users():
    study = _current_study_or_none()
    members = services.study_members(study.id) if study is not None else []
    return render_template("accounts/users.html", members=members, study=study)


@blueprint.route("/users/new", methods=["GET", "POST"])
@coordinator_required
def new_user():
    study = _current_study_or_none()
    form = UserForm(require_password=True, can_make_administrators=current_user.is_administrator)
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.email.data,
                form.name.data,
                form.role.data,
                form.password.data,
                form.timezone.data,
                study_ids=[study.id] if study is not None else [],
                is_administrator=bool(form.administrator_choice()),
                is_enabled=form.is_enabled.data,
            )
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            where = f" in {study.name}" if study is not None else ""
            flash(f"{user.name} can now log in as {user.role.value}{where}.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None, study=study), (
        422 if form.errors else 200
    )


@blueprint.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit_user(user_id: int):
    user, role = _member_of_current_study_or_404(user_id)
    study = _current_study_or_none()
    form = UserForm(obj=user, can_make_administrators=current_user.is_administrator)
    if request.method == "GET":
        form.password.data = ""
        form.role.data = (role or user.role).value
    if form.validate_on_submit():
        if user.id == current_user.id and (
            not form.is_enabled.data
            or form.role.data != "coordinator"
            or (user.is_administrator and form.administrator_choice() is False)
        ):
            form.role.errors.append("You cannot take away your own coordinator access.")
        else:
            try:
                services.save_member(
                    user,
                    study.id if study is not None else None,
                    name=form.name.data,
                    email=form.email.data,
                    role=form.role.data,
                    timezone=form.timezone.data,
                    is_enabled=form.is_enabled.data,
                    is_administrator=form.administrator_choice(),
                    password=form.password.data or "",
                )
            except services.AccountError as error:
                field = form.password if form.password.data else form.email
                field.errors.append(str(error))
            else:
                flash(f"{user.name}'s account is saved.", "success")
                return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user, study=study), (
        422 if form.errors else 200
    )


@blueprint.post("/users/<int:user_id>/sign-out")
@administrator_required
def sign_out_user(user_id: int):
    user, _ = _member_of_current_study_or_404(user_id)
    services.end_sessions(user)
    if user.id == current_user.id:
        _end_this_session()
        flash("You are signed out on every device, this one included.", "success")
        return redirect(url_for("accounts.login"))
    flash(f"{user.name} is signed out on every device; they must log in again.", "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@blueprint.route("/users/invite", methods=["GET", "POST"])
@coordinator_required
def invite_user():
    study = _current_study_or_none()
    if study is None:
        abort(404)
    form = InviteForm()
    if form.validate_on_submit():
        user, is_new = invitations.invite_user(
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            timezone=form.timezone.data,
            study=study,
            invited_by=current_user._get_current_object(),
        )
        if is_new:
            flash(
                f"{user.name} is invited to {study.name} as {form.role.data}: an email with a "
                "link to choose a password is in the outbox (the link works for 7 days).",
                "success",
            )
        else:
            flash(
                f"{user.name} already has an account; they now belong to {study.name} as "
                f"{form.role.data}.",
                "success",
            )
        return redirect(url_for("accounts.users"))
    return render_template("accounts/invite.html", form=form, study=study), (
        422 if form.errors else 200
    )


FORGOT_SENT = (
    "If an account uses that address, we have emailed it a link to choose a new password. "
    "The link works once, for 2 hours."
)


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], error_message="Too many requests; wait an hour.")
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        invitations.request_password_reset(form.email.data)
        flash(FORGOT_SENT, "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), (
        422 if form.errors else 200
    )


@blueprint.route("/password/set/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    link = invitations.live_link(token)
    if link is None:
        return render_template("accounts/link_expired.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.set_password_with_link(token, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            _end_this_session()
            flash(f"Your password is set, {user.name}. Log in with it now.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, link=link), (
        422 if form.errors else 200
    )

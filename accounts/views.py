"""Pages for signing in and out, registering, the resident's account, and admin role grants."""

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from accounts import codes, services, signin
from accounts.forms import (
    ConsentForm,
    DeleteAccountForm,
    EmailResetForm,
    LoginForm,
    NewPasswordForm,
    ParticipantForm,
    PasswordChangeForm,
    PasswordResetForm,
    RegisterForm,
    SmsLoginForm,
)
from core import nav
from core.errors import DomainError
from core.extensions import limiter
from core.forms import show_domain_error
from core.urls import external_url
from core.views import safe_next

bp = Blueprint("accounts", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 120, "accounts.account", _l("My account"), visible=nav.signed_in),
    nav.NavEntry("main", 130, "accounts.login", _l("Sign in"), visible=nav.signed_out),
    nav.NavEntry("main", 140, "accounts.register", _l("Register"), visible=nav.signed_out),
]


@bp.app_context_processor
def _labels():
    from accounts.models import RELATION_LABELS

    return {"relation_label": lambda relation: RELATION_LABELS.get(relation, relation)}


def _address_limit(name: str):
    return lambda: current_app.config[name]


def _signed_in(user, remember: bool = False):
    """Start the session of `user`; a resident who has not agreed to the current terms is asked first."""
    login_user(user, remember=remember)
    # Only an explicit ?next= counts: the referrer of this POST is the sign-in page itself.
    home = url_for(nav.start_page(user, "venues.index"))
    target = safe_next(home) if request.values.get("next") else home
    if user.needs_consent(current_app.config["TERMS_VERSION"]):
        return redirect(url_for("accounts.consent", next=target))
    return redirect(target)


@bp.before_app_request
def _ask_for_consent():
    """A resident signed in under an older 用户协议/隐私政策 version sees the consent page before any other
    page (the API reports `consent_required` on /me instead)."""
    if request.method != "GET" or request.endpoint in CONSENT_FREE or request.path.startswith("/api/"):
        return None
    user = current_user
    if user.is_authenticated and user.needs_consent(current_app.config["TERMS_VERSION"]):
        return redirect(url_for("accounts.consent", next=request.full_path.rstrip("?")))
    return None


CONSENT_FREE = {
    None,
    "static",
    "accounts.consent",
    "accounts.terms",
    "accounts.privacy",
    "accounts.logout",
    "core.healthz",
}


def _code_sent(form, purpose: str) -> int:
    """Ask for a code from a page (the form's "Send code" button); show the outcome, return the status."""
    try:
        codes.request_code(form.phone.data or "", purpose)
    except DomainError as err:
        return show_domain_error(form, err)
    flash(
        _("If this phone can use it, a code is on its way. It is valid for %(n)s minutes.", n=codes.CODE_MINUTES),
        "info",
    )
    return 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"), methods=["POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = signin.authenticate(form.login.data, form.password.data)
        except DomainError as err:
            flash(str(err.message), "error")
            status = err.status
        else:
            return _signed_in(user, remember=form.remember.data)
    elif form.is_submitted():
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/login/sms", methods=["GET", "POST"])
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"), methods=["POST"])
def login_by_code():
    """短信验证码登录: "Send code" asks for a code; "Sign in" checks it."""
    form = SmsLoginForm()
    status = 200
    if form.validate_on_submit():
        if request.form.get("action") == "send":
            status = _code_sent(form, "login")
        else:
            try:
                user = signin.authenticate_by_code(form.phone.data, form.sms_code.data)
            except DomainError as err:
                status = show_domain_error(form, err)
            else:
                return _signed_in(user, remember=form.remember.data)
    elif form.is_submitted():
        status = 422
    return render_template("accounts/login_sms.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        signin.sign_out_everywhere(current_user._get_current_object())
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("venues.index"))


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"), methods=["POST"])
def password_reset():
    """忘记密码: a reset code to the phone, then the code and a new password."""
    form = PasswordResetForm()
    status = 200
    if form.validate_on_submit():
        if request.form.get("action") == "send":
            status = _code_sent(form, "reset")
        else:
            try:
                signin.reset_password_by_code(form.phone.data, form.sms_code.data, form.new_password.data)
            except DomainError as err:
                status = show_domain_error(form, err)
            else:
                flash(_("Your new password is set, and every device has been signed out. Please sign in."), "success")
                return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/password_reset.html", form=form), status


@bp.route("/password-reset/email", methods=["GET", "POST"])
@limiter.limit(_address_limit("SMS_ADDRESS_LIMIT"), methods=["POST"])
def password_reset_email():
    form = EmailResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            signin.request_password_reset_email(form.email.data, link_for=_reset_link)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(
                _(
                    "If an account has this address, we have e-mailed it a link. It is valid for %(n)s minutes.",
                    n=current_app.config["PASSWORD_RESET_LINK_MINUTES"],
                ),
                "info",
            )
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/password_reset_email.html", form=form), status


def _reset_link(token: str) -> str:
    """The absolute link for an e-mail (from PUBLIC_BASE_URL when set: a forged Host header cannot redirect it)."""
    return external_url("accounts.password_reset_link", token=token)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"), methods=["POST"])
def password_reset_link(token: str):
    signin.user_for_reset_token(token)  # an expired or used link is a 400 page at once
    form = NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            signin.reset_password_by_token(token, form.new_password.data)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Your new password is set, and every device has been signed out. Please sign in."), "success")
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/password_reset_link.html", form=form), status


@bp.route("/consent", methods=["GET", "POST"])
@login_required
def consent():
    form = ConsentForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.accept_terms(current_user, consent=form.consent.data)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            return redirect(safe_next(url_for("venues.index")))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/consent.html", form=form), status


@bp.get("/terms")
def terms():
    return render_template("accounts/terms.html")


@bp.get("/privacy")
def privacy():
    return render_template("accounts/privacy.html")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_address_limit("REGISTER_ADDRESS_LIMIT"), methods=["POST"])
def register():
    form = RegisterForm()
    status = 200
    if form.is_submitted() and request.form.get("action") == "send":  # "Send code": only the phone matters
        form.validate()
        if form.csrf_token.errors:
            return render_template("accounts/register.html", form=form), 400
        status = _code_sent(_without_errors(form), "register")
        return render_template("accounts/register.html", form=form), status
    if form.validate_on_submit():
        try:
            user = services.sign_up(
                name=form.name.data,
                phone=form.phone.data,
                password=form.password.data,
                consent=form.consent.data,
                sms_code=form.sms_code.data,
                birth_year=form.birth_year.data,
                email=form.email.data,
                locale=request.cookies.get("lang") or "zh_CN",
            )
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            login_user(user)
            flash(_("Welcome! Your one-card number is %(card)s.", card=user.card_number), "success")
            return redirect(url_for("accounts.account"))
    elif form.is_submitted():
        status = 422
        _add_service_problems(form)
    return render_template("accounts/register.html", form=form), status


def _without_errors(form):
    for f in form:
        f.errors = []
    return form


def _add_service_problems(form) -> None:
    """Show the service's field errors beside the form's own, so every problem shows at once."""
    problems = services.sign_up_problems(
        name=form.name.data or "",
        phone=form.phone.data or "",
        password=form.password.data or "",
        consent=form.consent.data,
        sms_code=form.sms_code.data,
        birth_year=form.birth_year.data,
        email=form.email.data,
    )
    for name, messages in problems.items():
        field = getattr(form, name)
        if not field.errors:
            field.errors = list(messages)


@bp.get("/account")
@login_required
def account():
    return render_template(
        "accounts/account.html",
        participant_form=ParticipantForm(),
        password_form=PasswordChangeForm(),
        delete_form=DeleteAccountForm(),
    )


@bp.post("/account/participants")
@login_required
def add_participant():
    form = ParticipantForm()
    if form.validate_on_submit():
        try:
            services.add_participant(
                current_user,
                name=form.name.data,
                birth_year=form.birth_year.data,
                relation=form.relation.data,
                gender=form.gender.data or None,
                id_number=form.id_number.data or None,
            )
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Family member added."), "success")
            return redirect(url_for("accounts.account"))
    else:
        status = 422
    return render_template(
        "accounts/account.html",
        participant_form=form,
        password_form=PasswordChangeForm(),
        delete_form=DeleteAccountForm(),
    ), status


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    status = 422
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current=form.current_password.data, new=form.new_password.data)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            login_user(current_user._get_current_object())  # keep this session on the new version
            flash(_("Password changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html", participant_form=ParticipantForm(), password_form=form, delete_form=DeleteAccountForm()
    ), status


@bp.get("/account/data.json")
@login_required
def download_data():
    data = services.export_personal_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=culturenet-my-data.json"},
    )


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account_confirmed(current_user._get_current_object(), form.password.data)
        except DomainError as err:
            form.password.errors = [*form.password.errors, str(err.message)]
        else:
            logout_user()
            flash(_("Your account has been deleted. Your personal data is gone."), "info")
            return redirect(url_for("venues.index"))
    return render_template(
        "accounts/account.html",
        participant_form=ParticipantForm(),
        password_form=PasswordChangeForm(),
        delete_form=form,
    ), 422

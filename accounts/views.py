"""Pages for signing in and out, registering, the resident's account, and admin role grants."""

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from accounts import services
from accounts.forms import (
    DeleteAccountForm,
    LoginForm,
    ParticipantForm,
    PasswordChangeForm,
    RegisterForm,
)
from core import nav, transaction
from core.errors import DomainError
from core.extensions import limiter
from core.forms import show_domain_error
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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data)
        except DomainError as err:
            transaction.keep_despite_refusal()  # a failed sign-in still counts
            flash(str(err.message), "error")
            status = 401 if err.status == 401 else err.status
        else:
            login_user(user, remember=form.remember.data)
            # Only an explicit ?next= counts: the referrer of this POST is the login page itself.
            home = url_for("venues.index")
            return redirect(safe_next(home) if request.values.get("next") else home)
    elif form.is_submitted():
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("venues.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.register_resident(name=form.name.data, phone=form.phone.data,
                                              password=form.password.data, birth_year=form.birth_year.data,
                                              locale=request.cookies.get("lang") or "zh_CN")
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            login_user(user)
            flash(_("Welcome! Your one-card number is %(card)s.", card=user.card_number), "success")
            return redirect(url_for("accounts.account"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/register.html", form=form), status


@bp.get("/account")
@login_required
def account():
    return render_template("accounts/account.html", participant_form=ParticipantForm(),
                           password_form=PasswordChangeForm(), delete_form=DeleteAccountForm())


@bp.post("/account/participants")
@login_required
def add_participant():
    form = ParticipantForm()
    if form.validate_on_submit():
        try:
            services.add_participant(current_user, name=form.name.data, birth_year=form.birth_year.data,
                                     relation=form.relation.data, gender=form.gender.data or None,
                                     id_number=form.id_number.data or None)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Family member added."), "success")
            return redirect(url_for("accounts.account"))
    else:
        status = 422
    return render_template("accounts/account.html", participant_form=form, password_form=PasswordChangeForm(),
                           delete_form=DeleteAccountForm()), status


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
    return render_template("accounts/account.html", participant_form=ParticipantForm(), password_form=form,
                           delete_form=DeleteAccountForm()), status


@bp.get("/account/data.json")
@login_required
def download_data():
    data = services.export_personal_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=culturenet-my-data.json"})


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit() and services.check_password(current_user, form.password.data):
        services.delete_account(current_user)
        logout_user()
        flash(_("Your account has been deleted. Your personal data is gone."), "info")
        return redirect(url_for("venues.index"))
    form.password.errors = [*form.password.errors, _("The password is not correct.")]
    return render_template("accounts/account.html", participant_form=ParticipantForm(),
                           password_form=PasswordChangeForm(), delete_form=form), 422

"""The identity forms.  Each form lists exactly the fields its page may change.

This is the defence against mass assignment: views copy ``form.<field>.data`` of declared fields
only, never ``request.form`` as a whole, so an extra ``platform_role=system_admin`` in a POST
is simply not read.  Choices (roles, departments, locales, time zones) are validated against
the database or fixed lists, so a crafted id or value is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (  # type: ignore[import-untyped]
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from tessera.platform import passwords
from tessera.platform.i18n import LOCALE_NAMES
from tessera.platform.identity.current import SCOPES
from tessera.platform.identity.tokens import EXPIRY_CHOICES

ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def optional_text(value: str | None) -> str | None:
    """A free-text field as stored: trimmed, and None when left empty."""
    return (value or "").strip() or None


def options(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """Choices for select and checkbox fields (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


@cache
def time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


def _locales() -> list[SelectChoice]:
    return options(LOCALE_NAMES.items())


def _tz_choices() -> list[SelectChoice]:
    return options((z, z.replace("_", " ")) for z in time_zones())


def _strong(_form: FlaskForm, field: PasswordField) -> None:
    try:
        passwords.check_strength(field.data or "")
    except passwords.WeakPassword:
        raise ValidationError(
            _l("Use at least %(n)d characters.", n=passwords.MIN_LENGTH)
        ) from None


def _required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}$")


def _email() -> Regexp:
    """A plain shape check (WTForms' Email needs the email_validator package, and the only real
    proof that an address works is the mail we send to it)."""
    return Regexp(EMAIL, message=_l("Enter a valid email address."))


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email"), validators=[_required(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=1000)])


class SetupForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Your name"), validators=[_required(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[_required(), _email(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[_required(), _strong, Length(max=1000)])
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[_required(), EqualTo("password", message=_l("The passwords differ."))],
    )
    locale = SelectField(_l("Language"), choices=_locales)
    time_zone = SelectField(_l("Time zone"), choices=_tz_choices, default="Asia/Shanghai")


class ForgotForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email"), validators=[_required(), _email(), Length(max=320)])


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("New password"), validators=[_required(), _strong, Length(max=1000)]
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[_required(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[_required(), Length(max=1000)])


class ProfileForm(FlaskForm):  # type: ignore[misc]
    """What members may change about themselves: nothing that grants access."""

    name = StringField(_l("Name"), validators=[_required(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    locale = SelectField(_l("Language"), choices=_locales)
    time_zone = SelectField(_l("Time zone"), choices=_tz_choices)


class TokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[_required(), Length(max=100)])
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=options((s, s) for s in SCOPES),
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )
    days = SelectField(
        _l("Expires after"),
        choices=options((str(d), _l("%(n)d days", n=d)) for d in EXPIRY_CHOICES),
        default="90",
    )


class UserForm(FlaskForm):  # type: ignore[misc]
    """An administrator's view of a user."""

    name = StringField(_l("Name"), validators=[_required(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[_required(), _email(), Length(max=320)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    locale = SelectField(_l("Language"), choices=_locales)
    time_zone = SelectField(_l("Time zone"), choices=_tz_choices)
    platform_role = SelectField(
        _l("Platform role"),
        choices=options(
            [
                ("member", _l("Member")),
                ("app_builder", _l("App builder")),
                ("system_admin", _l("System administrator")),
            ]
        ),
    )
    department_id = SelectField(_l("Department"), choices=[], coerce=str)
    roles = SelectMultipleField(_l("Roles"), choices=[], coerce=str)
    is_active = BooleanField(_l("Active"), default=True)
    send_invite = BooleanField(_l("Email a link to set a password"), default=True)


def profile_values(form: ProfileForm | UserForm) -> dict[str, Any]:
    """The fields a member's profile and an administrator's user form share, as stored."""
    return {
        "name": form.name.data.strip(),
        "phone": optional_text(form.phone.data),
        "locale": form.locale.data,
        "time_zone": form.time_zone.data,
    }


class DepartmentForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[_required(), Length(max=200)])
    parent_id = SelectField(_l("Parent department"), choices=[], coerce=str)
    manager_id = SelectField(_l("Manager"), choices=[], coerce=str)


class RoleForm(FlaskForm):  # type: ignore[misc]
    key = StringField(
        _l("Key"),
        validators=[
            _required(),
            Regexp(
                ROLE_KEY,
                message=_l("Lower-case letters, digits and underscores, starting with a letter."),
            ),
        ],
    )
    label_en = StringField(_l("Name (English)"), validators=[_required(), Length(max=100)])
    label_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])


def role_values(form: RoleForm) -> dict[str, Any]:
    """A role's names (English, and Chinese when given) and description, as stored."""
    label = {"en": form.label_en.data.strip()}
    if form.label_zh.data and form.label_zh.data.strip():
        label["zh-CN"] = form.label_zh.data.strip()
    return {"label": label, "description": optional_text(form.description.data)}

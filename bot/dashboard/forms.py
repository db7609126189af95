"""The dashboard's forms; Flask-WTF checks each one's CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class SignOutForm(FlaskForm):
    """Sign out (a POST, so another site cannot sign staff out)."""


class ExportForm(FlaskForm):
    """Export the members matching the list's filters."""

    q = HiddenField()
    county = HiddenField()
    work = HiddenField()
    status = HiddenField()


class NewAccountForm(FlaskForm):
    """A new dashboard account."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=80)])
    role = SelectField("Role", choices=["officer", "organiser", "admin"])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=200)])


class AccountActionForm(FlaskForm):
    """Disable or enable an account."""


class DataExportForm(FlaskForm):
    """Download a member's data export (admins; the format is the button pressed)."""


class NoteForm(FlaskForm):
    """An internal note about a member (never shown to the member)."""

    body = TextAreaField("Note", validators=[DataRequired(), Length(max=2000)])

"""The dashboard's forms (WTForms); CSRFProtect checks every post's token before the view."""

from flask_wtf import FlaskForm
from marshmallow import validate
from wtforms import DateField, EmailField, PasswordField
from wtforms.validators import InputRequired, Length, Optional

from server.auth.schemas import LoginSchema


def _longest(field: str) -> int:
    """The API's own length limit of a sign-in field, so both doors take the same input."""
    validators = LoginSchema._declared_fields[field].validators
    (length,) = (v for v in validators if isinstance(v, validate.Length))
    return length.max


EMAIL_MAX, PASSWORD_MAX = _longest("email"), _longest("password")


class _NoCsrfField(FlaskForm):
    """A form whose token is checked before the view runs (by CSRFProtect)."""

    class Meta:
        csrf = False


class LoginForm(_NoCsrfField):
    """Email and password."""

    email = EmailField(
        "Email",
        validators=[
            InputRequired("Enter your email address."),
            Length(max=EMAIL_MAX, message=f"Enter at most {EMAIL_MAX} characters."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Enter your password."),
            Length(max=PASSWORD_MAX, message=f"Enter at most {PASSWORD_MAX} characters."),
        ],
    )


class DayField(DateField):
    """A YYYY-MM-DD date (what a browser's date input sends), with a message that says so."""

    def process_formdata(self, valuelist):
        """Parse the date, or keep a message that shows the form it takes."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD, for example 2025-03-08.") from None


class RangeForm(_NoCsrfField):
    """The dates a patient's page covers (a GET form: from and to, as in the API)."""

    start = DayField(
        "From",
        name="from",
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"autocomplete": "off"},
    )
    end = DayField(
        "To",
        name="to",
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"autocomplete": "off"},
    )

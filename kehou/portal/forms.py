from django import forms
from django.utils.translation import gettext_lazy as _


class PasswordLoginForm(forms.Form):
    username = forms.CharField(label=_("Username or phone"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256, strip=False)


class SmsLoginForm(forms.Form):
    phone = forms.RegexField(
        label=_("Phone"),
        regex=r"^1[3-9]\d{9}$",
        max_length=11,
        error_messages={"invalid": _("Enter a mainland mobile number of 11 digits.")},
    )
    code = forms.RegexField(label=_("SMS code"), regex=r"^\d{6}$", max_length=6, required=False)

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from phonenumber_field.formfields import PhoneNumberField

from llamenos.models import Role, User

from .models import LANGUAGE_CHOICES, WEEKDAY_CHOICES, CallPreference, Volunteer


class PhoneField(PhoneNumberField):
    """Local formats are read in the hotline's default region (PHONENUMBER_DEFAULT_REGION)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Local numbers are fine; numbers abroad start with +.")
        super().__init__(**kwargs)
        self.widget.input_type = "tel"


def _phone_taken(phone, *, exclude_user: User | None = None) -> bool:
    if not phone:
        return False
    others = Volunteer.objects.filter(phone=phone)
    if exclude_user is not None:
        others = others.exclude(user=exclude_user)
    return others.exists()


PHONE_TAKEN = "Another volunteer already has this phone number."


class LanguagesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=LANGUAGE_CHOICES, required=False, label="Spoken languages", **kwargs)


class VolunteerFormBase(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    phone = PhoneField()
    spoken_languages = LanguagesField()

    def __init__(self, *args, user: User | None = None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if _phone_taken(phone, exclude_user=self.user):
            raise forms.ValidationError(PHONE_TAKEN)
        return phone


class VolunteerCreateForm(VolunteerFormBase):
    username = forms.CharField(max_length=150, help_text="What they log in with.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VOLUNTEER)
    field_order = ["first_name", "last_name", "username", "phone", "role", "spoken_languages"]

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username


class VolunteerEditForm(VolunteerFormBase):
    """The current number is never put in the page (revealing it is a separate, audited act):
    an empty phone field keeps it, ``clear_phone`` removes it."""

    clear_phone = forms.BooleanField(required=False, label="Remove their phone number")
    call_preference = forms.ChoiceField(choices=CallPreference.choices)
    in_fallback_group = forms.BooleanField(required=False, label="In the fallback group")
    field_order = ["first_name", "last_name", "phone", "clear_phone", "spoken_languages"]

    def __init__(self, *args, masked_phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].label = "New phone number"
        if masked_phone:
            self.fields["phone"].help_text = f"Currently {masked_phone}. Leave empty to keep it."
        else:
            del self.fields["clear_phone"]
            self.fields["phone"].label = "Phone"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_phone") and cleaned.get("phone"):
            self.add_error("clear_phone", "Either enter a new number or remove it, not both.")
        return cleaned

    def changes(self) -> dict:
        """The fields to save: the phone only when a new one was typed or removal was asked."""
        data = dict(self.cleaned_data)
        clear = data.pop("clear_phone", False)
        if clear:
            data["phone"] = ""
        elif not data.get("phone"):
            data.pop("phone", None)
        return data


class ProfileForm(VolunteerFormBase):
    call_preference = forms.ChoiceField(
        choices=CallPreference.choices, label="Ring me on", widget=forms.RadioSelect
    )


class InviteForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    phone = PhoneField(label="Phone (optional)")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VOLUNTEER)

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if _phone_taken(phone):
            raise forms.ValidationError(PHONE_TAKEN)
        return phone


class InviteAcceptForm(forms.Form):
    """Choose a username (new accounts only) and a password that passes Django's validators."""

    username = forms.CharField(max_length=150)
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, invite, **kwargs):
        super().__init__(*args, **kwargs)
        self.invite = invite
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()
        if invite.user is not None:
            del self.fields["username"]

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken; choose another.")
        return username

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            someone = self.invite.user or User(
                username=cleaned.get("username", ""),
                first_name=self.invite.first_name,
                last_name=self.invite.last_name,
            )
            try:
                password_validation.validate_password(first, someone)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class VolunteerChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        queryset = Volunteer.objects.select_related("user").order_by("user__first_name", "user__username")
        super().__init__(queryset=queryset, required=False, **kwargs)

    def label_from_instance(self, volunteer):
        label = volunteer.user.display_name
        return label if volunteer.user.is_active else f"{label} (deactivated)"


class ShiftForm(forms.Form):
    name = forms.CharField(max_length=100)
    days = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day."},
    )
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="An end before the start makes an overnight shift; it belongs to the day it starts.",
    )
    volunteers = VolunteerChoiceField(label="Volunteers on this shift")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start is not None and end is not None and start == end:
            self.add_error("end_time", "The end time must differ from the start time.")
        return cleaned


class FallbackGroupForm(forms.Form):
    volunteers = VolunteerChoiceField(label="Fallback group members")

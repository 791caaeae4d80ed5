"""Django admin (superusers only). Personal data is shown masked; the ID number is not editable here."""

from django.contrib import admin

from livingroom.people.models import EligibilityVerification, Resident, StaffRole, User


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["__str__", "display_name", "is_active", "is_superuser", "locked_until"]
    search_fields = ["username", "display_name", "phone_tail"]
    fields = [
        "username",
        "display_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "locked_until",
        "failed_logins",
    ]
    inlines = [StaffRoleInline]


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ["masked_name", "masked_id_number", "home_community", "created_at"]
    list_filter = ["home_community__street"]
    fields = ["home_community", "consent_version", "consent_at"]
    readonly_fields = ["consent_version", "consent_at"]


@admin.register(EligibilityVerification)
class VerificationAdmin(admin.ModelAdmin):
    list_display = ["resident", "kind", "platform", "valid_until", "verified_at", "revoked_at"]
    list_filter = ["kind"]
    exclude = ["credential_number"]
    readonly_fields = ["verified_by", "verified_at", "revoked_by"]

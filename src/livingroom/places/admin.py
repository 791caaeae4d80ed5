"""Django admin (superusers only). Day-to-day work happens in the staff console."""

from django.contrib import admin

from livingroom.places.models import (
    CalendarDay,
    Center,
    Community,
    Device,
    Facility,
    OpeningHours,
    Organization,
    Space,
    Street,
)


class SpaceInline(admin.TabularInline):
    model = Space
    extra = 0


class FacilityInline(admin.TabularInline):
    model = Facility
    extra = 0


class HoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "code_is_official"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "street", "name_is_real"]
    list_filter = ["street"]
    search_fields = ["name", "code"]


@admin.register(Center)
class CenterAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "renovated_on", "is_pilot"]
    list_filter = ["is_pilot", "community__street"]
    search_fields = ["name", "community__name"]
    inlines = [HoursInline, SpaceInline, FacilityInline]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "uscc"]
    filter_horizontal = ["centers"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "center", "key_id", "is_active", "last_seen_at"]
    exclude = ["secret"]
    readonly_fields = ["key_id", "last_seen_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"

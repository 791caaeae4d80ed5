"""Django admin (superusers only), read-mostly. Bookings change through the services (console and
API), which keep the rules, the audit log and the residents' messages; health notes are not shown."""

from django.contrib import admin

from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSeries,
    BookingSuspension,
    Closure,
    Resource,
    SpaceHours,
)


@admin.register(BookingRules)
class BookingRulesAdmin(admin.ModelAdmin):
    list_display = ("space", "audience", "slot_minutes", "max_minutes", "horizon_days", "requires_approval")
    list_select_related = ("space__center",)
    search_fields = ("space__name", "space__center__name")


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("space", "kind", "label", "is_active", "residents_may_book")
    list_filter = ("kind", "is_active")
    list_select_related = ("space__center",)
    search_fields = ("space__name", "space__center__name", "label")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("id", "space", "resource", "kind", "status", "starts_at", "ends_at")
    list_filter = ("status", "kind")
    list_select_related = ("space__center", "resource")
    date_hierarchy = "starts_at"
    raw_id_fields = ("resident", "organization", "series", "booked_by", "decided_by", "cancelled_by")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(SpaceHours)
admin.site.register(Closure)
admin.site.register(BookingSeries)
admin.site.register(BookingSuspension)

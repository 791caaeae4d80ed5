"""Django admin (superusers only), read-mostly. Courses change through the services (console and
API), which keep the seat counters, the waiting list, the audit log and the residents' messages."""

from django.contrib import admin

from livingroom.programs.models import Attendance, Draw, Enrollment, Payment, Program, ProgramSession, Talent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "center",
        "category",
        "status",
        "capacity",
        "seats_taken",
        "waitlist_count",
        "price_fen",
    )
    list_filter = ("status", "category")
    list_select_related = ("center",)
    search_fields = ("title", "center__name")


@admin.register(ProgramSession)
class ProgramSessionAdmin(ReadOnlyAdmin):
    list_display = ("program", "space", "starts_at", "ends_at", "status")
    list_filter = ("status",)
    list_select_related = ("program", "space")


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ("program", "participant_masked", "status", "position", "requested_at", "paid_fen")
    list_filter = ("status",)
    list_select_related = ("program", "resident", "dependant")
    raw_id_fields = ("program", "resident", "dependant", "ended_by")


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ("session", "enrollment", "present", "via", "marked_at")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("enrollment", "kind", "amount_fen", "method", "reference", "created_at")
    list_filter = ("kind", "method")


@admin.register(Talent)
class TalentAdmin(ReadOnlyAdmin):
    list_display = ("resident", "community", "kind", "skills", "status", "applied_at")
    list_filter = ("status", "kind")
    list_select_related = ("resident", "community")


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ("program", "drawn_at")

"""Template filters of the audit log."""

from django import template

from core.audit_display import audit_changes

register = template.Library()


@register.filter
def changes(entry):
    """The entry's before -> after per field (see core.audit_display)."""
    return audit_changes(entry.before, entry.after)

# A version's state now carries its reason (the deploy gate quotes it instead of reading the
# validation runs). Versions decided before this migration get the reason of their latest verdict.

from django.db import migrations, models


def backfill_reasons(apps, schema_editor):
    ModelVersion = apps.get_model("registry", "ModelVersion")
    ValidationRun = apps.get_model("jobs", "ValidationRun")
    decided = ModelVersion.objects.filter(state__in=["validated", "rejected"])
    for version in decided.iterator():
        run = (
            ValidationRun.objects.filter(version=version, status__in=["passed", "failed"])
            .order_by("-finished_at", "-id")
            .first()
        )
        if run is None:
            continue
        if run.status == "passed":
            reason = f"latest validation run #{run.pk} passed"
        else:
            failed = ", ".join(c["check"] for c in run.checks if not c.get("passed")) or "-"
            reason = f"latest validation run #{run.pk} failed (failed checks: {failed})"
        ModelVersion.objects.filter(pk=version.pk).update(state_reason=reason[:300])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_validation_moved_to_jobs"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="state_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(backfill_reasons, migrations.RunPython.noop),
    ]

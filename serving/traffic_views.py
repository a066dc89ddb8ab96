"""Console form that splits a deployment's traffic (the same service as the API): the editor's
rows, or the `v1:90:primary, ...` text a script may still post."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from core.errors import InvalidInput, ServiceError
from serving import deploy


def parse_split(text: str) -> list[dict]:
    """`v1:90:primary, v2:10:candidate, v3:0:shadow` -> [{version, weight, role}]."""
    variants = []
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if not part:
            continue
        pieces = [p.strip() for p in part.split(":")]
        number = pieces[0].lower().removeprefix("v")
        if len(pieces) != 3 or not number.isdigit():
            raise InvalidInput(f"{part!r} is not like v2:10:candidate (version:weight:role)")
        try:
            weight = int(pieces[1])
        except ValueError:
            raise InvalidInput(f"{part!r}: the weight must be an integer") from None
        variants.append({"version": int(number), "weight": weight, "role": pieces[2]})
    return variants


def parse_rows(post) -> list[dict]:
    """The split editor's rows (parallel `version`, `weight`, `role` lists); blank rows skipped.
    Types are checked by the service, which names the offending variant."""
    rows = zip(post.getlist("version"), post.getlist("weight"), post.getlist("role"), strict=False)
    return [
        {"version": v.strip(), "weight": w.strip() or "0", "role": r.strip()}
        for v, w, r in rows
        if v.strip()
    ]


@require_POST
@role_required("deploy")
def set_traffic(request, model: str, deployment: str):
    try:
        deploy.deployment_set_traffic(
            model_name=model,
            deployment_name=deployment,
            variants=(
                parse_rows(request.POST)
                if "version" in request.POST
                else parse_split(request.POST.get("split", ""))
            ),
            actor=request.actor,
            reason=request.POST.get("reason", ""),
            override=request.POST.get("override") == "on",
        )
        messages.success(request, f"Traffic of {model}/{deployment} changed.")
    except ServiceError as exc:
        messages.error(request, f"Traffic not changed: {exc.message}")
    return redirect("serving:deployment-detail", model, deployment)

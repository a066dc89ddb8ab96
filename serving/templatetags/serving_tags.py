"""Template helpers of deployment pages: a deployment state in words, what each model serves."""

from django import template

from serving.selectors import deployment_list

register = template.Library()


@register.filter
def state_label(state) -> str:
    """A deployment state in words: `v2`, or `v3 90% / v2 10% / v4 shadow`; `nothing` if empty."""
    if not state:
        return "nothing"
    if len(state) == 1 and state[0]["weight"] == 100:
        return f"v{state[0]['version']}"
    return " / ".join(
        f"v{s['version']} shadow" if s["role"] == "shadow" else f"v{s['version']} {s['weight']}%"
        for s in state
    )


@register.simple_tag(takes_context=True)
def serving_of(context, model) -> list[tuple[str, str]]:
    """[(deployment name, "v1 80%, v2 20%")] of a model's live deployments; every model's are
    read in one query per render, whatever the number of rows asking."""
    cache = context.render_context.get("serving_of")
    if cache is None:
        cache = context.render_context["serving_of"] = {}
        for dep in deployment_list().order_by("model_id", "name"):
            served = ", ".join(
                f"v{v.version.number} shadow"
                if v.role == "shadow"
                else f"v{v.version.number} {v.weight}%"
                for v in dep.variants.all()
            )
            if served:
                cache.setdefault(dep.model_id, []).append((dep.name, served))
    return cache.get(model.pk, [])

"""`{% version_actions version %}`: the deploy controls that the version page shows."""

from django import template

from accounts.permissions import actor_can
from serving.forms import DeployForm
from serving.selectors import deployments_of_version

register = template.Library()


@register.inclusion_tag("serving/_version_actions.html", takes_context=True)
def version_actions(context, version):
    request = context["request"]
    return {
        "version": version,
        "deployments": deployments_of_version(version),
        "form": DeployForm(),
        "can_deploy": actor_can(request.user, None, "deploy", model_name=version.model.name),
        "is_admin": actor_can(request.user, None, "admin"),
        "csrf_token": context.get("csrf_token"),
    }

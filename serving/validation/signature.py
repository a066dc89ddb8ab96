"""`signature_compatibility`: the new signature against the one serving production."""

from __future__ import annotations

from serving.validation.context import CheckResult, SuiteContext

NAME = "signature_compatibility"


def _shape_compatible(old: list[int], new: list[int]) -> bool:
    """Every request the old shape admitted is admitted by the new one."""
    return len(old) == len(new) and all(n < 0 or n == o for o, n in zip(old, new, strict=True))


def differences(old: dict, new: dict) -> tuple[list[str], list[str]]:
    """(breaking changes, compatible changes) from old to new."""
    old_in = {s["name"]: s for s in old.get("inputs", [])}
    new_in = {s["name"]: s for s in new.get("inputs", [])}
    breaking, compatible = [], []
    for name in sorted(set(old_in) - set(new_in)):
        breaking.append(f"input {name!r} removed")
    for name in sorted(set(new_in) - set(old_in)):
        breaking.append(f"input {name!r} added (clients do not send it)")
    for name in sorted(set(old_in) & set(new_in)):
        o, n = old_in[name], new_in[name]
        if o["dtype"] != n["dtype"]:
            breaking.append(f"input {name!r} retyped {o['dtype']} -> {n['dtype']}")
        elif not _shape_compatible(o["shape"], n["shape"]):
            breaking.append(f"input {name!r} reshaped {o['shape']} -> {n['shape']}")
        elif o["shape"] != n["shape"]:
            compatible.append(f"input {name!r} relaxed {o['shape']} -> {n['shape']}")
    old_out = {s["name"]: s for s in old.get("outputs", [])}
    new_out = {s["name"]: s for s in new.get("outputs", [])}
    for name in sorted(set(old_out) - set(new_out)):
        breaking.append(f"output {name!r} removed")
    for name in sorted(set(new_out) - set(old_out)):
        compatible.append(f"output {name!r} added")
    for name in sorted(set(old_out) & set(new_out)):
        if old_out[name]["dtype"] != new_out[name]["dtype"]:
            breaking.append(f"output {name!r} retyped")
    return breaking, compatible


def run(ctx: SuiteContext) -> CheckResult:
    """Breaking changes fail unless the policy allows them."""
    if ctx.production is None:
        return CheckResult(NAME, True, {}, "nothing else serves production; nothing to compare")
    breaking, compatible = differences(ctx.production.signature, ctx.signature)
    metrics = {
        "production_version": ctx.production.number,
        "breaking": breaking,
        "compatible": compatible,
    }
    if breaking and not ctx.policy["signature_allow_breaking"]:
        return CheckResult(NAME, False, metrics, "breaking change: " + "; ".join(breaking))
    if breaking:
        return CheckResult(NAME, True, metrics, "allowed by policy: " + "; ".join(breaking))
    return CheckResult(NAME, True, metrics, f"compatible with production v{ctx.production.number}")

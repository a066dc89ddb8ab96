"""`signature_compatibility`: the new signature against the one serving production."""

from __future__ import annotations

from jobs.validation.context import CheckResult, SuiteContext

NAME = "signature_compatibility"


def _shape_compatible(old: list[int], new: list[int]) -> bool:
    """Every request the old shape admitted is admitted by the new one."""
    return len(old) == len(new) and all(n < 0 or n == o for o, n in zip(old, new, strict=True))


HOW_TO_KEEP_NAMES = (
    "Clients address tensors by name, so keep the names stable: build the model with named "
    'layers, e.g. keras.Input(shape=(4,), name="features") and the last layer '
    'Dense(1, name="score") (a Sequential model\'s names are generated: use the functional API '
    "or name its layers), then register the version again. If the clients change with it, the "
    "model's validation policy may allow breaking changes."
)


def _renames(gone: dict, came: dict) -> list[tuple[str, str]]:
    """Pairs (old name, new name) of tensors that look renamed: the only ones that went and came,
    or one each of a dtype and shape; anything ambiguous stays a removal plus an addition."""
    pairs = []
    for name in sorted(gone):
        twins = [n for n in sorted(came) if _same_kind(gone[name], came[n])]
        if len(twins) == 1:
            pairs.append((name, twins[0]))
    news = [n for _, n in pairs]
    return [(o, n) for o, n in pairs if news.count(n) == 1]


def _same_kind(old: dict, new: dict) -> bool:
    return old["dtype"] == new["dtype"] and _shape_compatible(old["shape"], new["shape"])


def differences(old: dict, new: dict) -> tuple[list[str], list[str]]:
    """(breaking changes, compatible changes) from old to new."""
    old_in = {s["name"]: s for s in old.get("inputs", [])}
    new_in = {s["name"]: s for s in new.get("inputs", [])}
    breaking, compatible = [], []
    old_out = {s["name"]: s for s in old.get("outputs", [])}
    new_out = {s["name"]: s for s in new.get("outputs", [])}
    for kind, before, after in (("input", old_in, new_in), ("output", old_out, new_out)):
        gone = {n: before[n] for n in set(before) - set(after)}
        came = {n: after[n] for n in set(after) - set(before)}
        for old_name, new_name in _renames(gone, came):
            breaking.append(
                f"{kind} {old_name!r} is now named {new_name!r} (same dtype and shape): clients "
                f"that use {old_name!r} would break"
            )
            del before[old_name], after[new_name]
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
        message = (
            f"breaking change against production v{ctx.production.number}: "
            + "; ".join(breaking)
            + ". "
            + HOW_TO_KEEP_NAMES
        )
        return CheckResult(NAME, False, metrics, message)
    if breaking:
        return CheckResult(NAME, True, metrics, "allowed by policy: " + "; ".join(breaking))
    return CheckResult(NAME, True, metrics, f"compatible with production v{ctx.production.number}")

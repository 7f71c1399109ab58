"""Schemathesis hooks of the `api_fuzz` e2e test.

For cases generated as valid, and only for what JSON Schema cannot say (each rule is named in
the document's descriptions): a brief's cast references, unique ids and keyframe prompt length,
and a support action's stage and model (those of a real render). Path ids of valid cases name a
real render of the caller. In every mode `wait` is kept short, so a long-poll does not hold the
run. Every render a valid case creates is cancelled at once, so the simulator stays idle.
"""

import json
import os
import urllib.request

import schemathesis

WORKER = os.environ["FUZZ_WORKER_URL"]
APP_KEY = os.environ["FUZZ_APP_KEY"]
RENDER = os.environ["FUZZ_RENDER_ID"]
STAGE = os.environ["FUZZ_STAGE"]
MODEL = os.environ["FUZZ_MODEL"]

# Rust's `char::is_whitespace` (Unicode White_Space): what `str::trim` removes
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
MAX_KEYFRAME_PROMPT_CHARS = 4000


def _positive(case):
    return case.meta is not None and case.meta.generation.mode.is_positive


def _operation_id(case):
    return case.operation.definition.raw.get("operationId")


def _chars(text):
    return len(text.strip(WHITE_SPACE))


def _repair_brief(brief):
    """Makes a schema-valid brief obey the validator's cross-field rules"""
    cast, seen = [], set()
    for member in brief.get("cast") or []:
        if isinstance(member, dict) and member.get("id") not in seen:
            seen.add(member.get("id"))
            # A member sent as its id alone comes from the creator's Memory Graph, whose looks
            # the tester's creator has none of; a description needs its name: sent whole
            if not member.get("name"):
                member["name"] = f"Cast {len(cast)}"
            member.setdefault("description", "a recurring character")
            cast.append(member)
    if "cast" in brief:
        brief["cast"] = cast
    # JSON Schema calls 7516.0 an integer, serde's u64 refuses it: sent as 7516 (a server
    # finding, reported; the schema cannot say "no fraction in the text")
    if isinstance(brief.get("deadline_s"), float) and brief["deadline_s"].is_integer():
        brief["deadline_s"] = int(brief["deadline_s"])
    # The budget must cover the cheapest plan (the registry's prices) and stay within the
    # creator's tier limit (the app key's creator: $500 a render)
    # A brief without pacing takes it from its format's DNA in the creator's Memory Graph, which
    # the tester's creator has none of: sent with pacing
    if brief.get("pacing") is None:
        brief["pacing"] = {"target_duration_s": 60, "energy": "steady"}
    if isinstance(brief.get("budget_usd"), (int, float)):
        brief["budget_usd"] = min(max(brief["budget_usd"], 100.0), 500.0)
    # Shots per render are capped by the creator's tier (the app key's creator: 200), which the
    # document states in words: a per-tier limit is not a schema
    if isinstance(brief.get("shots"), list):
        brief["shots"] = brief["shots"][:200]
    # Back to back the shots last at most an hour (what one assembly makes), which the document
    # states in words: a sum over a list is not a schema. Shortened alike to fit
    shots = [s for s in brief.get("shots") or [] if isinstance(s, dict)]
    lengths = [s.get("duration_s") for s in shots]
    if all(isinstance(d, (int, float)) for d in lengths) and sum(lengths) > 3600:
        scale = 3600 / sum(lengths)
        for shot in shots:
            shorter = shot["duration_s"] * scale * 0.999
            # a length near the smallest float would round to 0: kept, it adds nothing
            shot["duration_s"] = shorter if shorter > 0 else shot["duration_s"]
    by_id = {m["id"]: m for m in cast if isinstance(m.get("id"), str)}
    shot_ids = set()
    for i, shot in enumerate(brief.get("shots") or []):
        if not isinstance(shot, dict):
            continue
        if shot.get("id") in shot_ids:
            shot["id"] = f"dup{i}"
        shot_ids.add(shot.get("id"))
        members = [c for c in shot.get("cast") or [] if c in by_id]
        prompt = _chars(shot.get("prompt") or "")
        while members and prompt + sum(
            4 + len(by_id[c]["name"]) + _chars(by_id[c]["description"]) for c in members
        ) > MAX_KEYFRAME_PROMPT_CHARS:
            members.pop()
        if "cast" in shot:
            shot["cast"] = members
        line = shot.get("dialogue")
        if isinstance(line, dict) and line.get("character") not in by_id:
            if by_id:
                line["character"] = next(iter(by_id))
            else:
                shot["dialogue"] = None


def _whole_shot_mixes(edit):
    """A format's shot mix must sum to 1: the generated shares are scaled to do so"""
    for dna in (edit.get("formats") or {}).values():
        mix = dna.get("shot_mix") if isinstance(dna, dict) else None
        if isinstance(mix, dict) and mix:
            total = sum(v for v in mix.values() if isinstance(v, (int, float)))
            for kind in mix:
                mix[kind] = mix[kind] / total if total > 0 else 1 / len(mix)


def _own_uploads(edit):
    """Reference images must be the caller's own uploads (`creators/demo/...` for the app key)"""
    for look in (edit.get("looks") or {}).values():
        if isinstance(look, dict) and isinstance(look.get("reference_images"), list):
            look["reference_images"] = [
                "creators/demo/" + key.split("/", 2)[2] if isinstance(key, str) and key.count("/") >= 2 else key
                for key in look["reference_images"]
            ]


def _aligned_reports(body):
    """Report rows have one cell per column header, typed by its column: what JSON Schema cannot
    say of a YouTube Analytics table"""
    analytics = body.get("analytics")
    if not isinstance(analytics, dict):
        return
    cell = {
        "video": "dQw4w9WgXcQ",
        "country": "US",
        "views": 1,
        "averageViewDuration": 1,
        "averageViewPercentage": 1,
    }
    for table in analytics.values():
        if not isinstance(table, dict) or not isinstance(table.get("columnHeaders"), list):
            continue
        names = [h.get("name") if isinstance(h, dict) else None for h in table["columnHeaders"]]
        first = {}
        for i, name in enumerate(names):
            first.setdefault(name, i)
        if isinstance(table.get("rows"), list):
            table["rows"] = [
                [cell.get(n, 0) if first.get(n) == i else 0 for i, n in enumerate(names)]
                for _ in table["rows"]
            ]


@schemathesis.hook
def before_call(context, case, kwargs):
    # A valid `wait` holds the request that many seconds (a render that no longer changes never
    # answers early): one is enough to exercise it, in every mode.
    wait = (case.query or {}).get("wait")
    if isinstance(wait, (int, str)) and str(wait).isdigit() and 1 < int(wait) <= 60:
        case.query["wait"] = 1
    if not _positive(case):
        return
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = RENDER
    op = _operation_id(case)
    if op in ("createRender", "memoryContext", "supportMemoryContext") and isinstance(case.body, dict):
        _repair_brief(case.body)
    if op == "editMemory" and isinstance(case.body, dict):
        _own_uploads(case.body)
        _whole_shot_mixes(case.body)
    if op == "importChannel" and isinstance(case.body, dict):
        _aligned_reports(case.body)
    if op == "supportAction" and isinstance(case.body, dict):
        if "stage" in case.body:
            case.body["stage"] = STAGE
        if "model" in case.body:
            case.body["model"] = MODEL


@schemathesis.hook
def after_call(context, case, response):
    if _operation_id(case) != "createRender" or response.status_code != 202:
        return
    try:
        job = json.loads(response.content)["job_id"]
    except (ValueError, KeyError, TypeError):
        return
    request = urllib.request.Request(
        f"{WORKER}/v1/renders/{job}/cancel",
        data=b"{}",
        method="POST",
        headers={"authorization": f"Bearer {APP_KEY}", "content-type": "application/json"},
    )
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except OSError:
        pass  # a render that finished first is refused with 409: nothing left to stop

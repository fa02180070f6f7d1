"""What a record must be to reach the output: schema-valid, and text that reads right.

Pure functions, shared by the quarantine stage (records on their way out) and the
ledger (records read back from a killed run's file).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from newscrawl.records.story import STORY_SCHEMA

# The reference: Draft 2020-12, formats (date-time) checked too.
VALIDATOR = Draft202012Validator(STORY_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _formats(schema: Any) -> set[str]:
    """The names of the formats a schema uses, at any depth."""
    if isinstance(schema, dict):
        found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return found.union(*(_formats(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_formats(value) for value in schema))
    return set()


# The same schema compiled to Python code (fastjsonschema), about ten times faster: it
# says which records are valid, with the reference's own format checks. The schema's
# keywords mean the same in draft 7, the newest draft fastjsonschema knows. Where it
# finds a record invalid the reference judges again and gives the reasons, so a record
# is never quarantined on the compiled check's word alone; so the compiled check's own
# messages are left out (each would carry the whole schema: twice the code, 6 MB more
# of every run's memory).
_COMPILED = fastjsonschema.compile(
    {**STORY_SCHEMA, "$schema": "http://json-schema.org/draft-07/schema#"},
    formats={
        name: partial(Draft202012Validator.FORMAT_CHECKER.conforms, format=name)
        for name in _formats(STORY_SCHEMA)
    },
    detailed_exceptions=False,
)
STATE_FIELDS = ("key", "fingerprint", "version", "first_seen", "last_seen")

# UTF-8 read as latin-1/cp1252 leaves a lead byte's letter before a continuation's:
# a cheap first look, before ftfy's judgement (most stories never get that far).
_MOJIBAKE_HINT = re.compile(
    "[\u00c2\u00c3\u00c5\u00ce\u00d0\u00d8\u00d9\u00e2][\u0080-\u00bf\u0152-\u2122]"
)
# What only a challenge page says (a story may well say "just a moment").
_CHALLENGE_WORDS = re.compile(
    r"checking your browser before accessing|enable javascript and cookies to continue",
    re.IGNORECASE,
)


def _reads_as_mojibake(text: str) -> bool:
    """ftfy's judgement of a text the hint let through. Few ever get that far, so ftfy
    (2 MB of a crawl's memory) is imported the first time one does."""
    from ftfy.badness import is_bad

    return bool(is_bad(text))


def schema_errors(record: dict[str, Any]) -> list[str]:
    """Where a record fails the story JSON Schema, one line each (empty when valid)."""
    try:
        _COMPILED(record)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(record)'}: {error.message}"
        for error in VALIDATOR.iter_errors(record)
    ]


def text_faults(record: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(reason, details) when a story's text is broken; None when it reads right."""
    texts = [record.get("title") or "", *(record.get("summary") or [])]
    texts += [*(record.get("body") or []), record.get("caption") or ""]
    return texts_faults([str(text) for text in texts])


def texts_faults(texts: list[str]) -> tuple[str, list[str]] | None:
    errors = []
    for text in texts:
        if "\ufffd" in text:
            errors.append(f"replacement character in {text[:60]!r}")
        elif _MOJIBAKE_HINT.search(text) and _reads_as_mojibake(text):
            errors.append(f"mojibake in {text[:60]!r}")
        elif len(text) < 200 and _CHALLENGE_WORDS.search(text):
            errors.append(f"bot-challenge text {text[:60]!r}")
    if not errors:
        return None
    reason = "challenge-text" if errors[0].startswith("bot") else "broken-text"
    return reason, errors


def record_faults(record: Any) -> tuple[str, list[str]] | None:
    """(reason, details) when a written record cannot be published: ``malformed`` (not
    a record, or no usable key, fingerprint and version), ``invalid`` (the schema), or
    broken text."""
    if not isinstance(record, dict):
        return "malformed", ["not a JSON object"]
    missing = [name for name in STATE_FIELDS if not isinstance(record.get(name), (str, int))]
    if missing or not isinstance(record.get("version"), int):
        return "malformed", [f"no usable {', '.join(missing) or 'version'}"]
    errors = schema_errors(record)
    if errors:
        return "invalid", errors
    return text_faults(record)

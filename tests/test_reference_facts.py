"""The facts the tests keep in the repository (tests/data/) agree with Slack's full references, when those lie
beside the repository (../shared/, as on CI). A plain clone has none: the tests then rest on the copies alone."""

import json
from pathlib import Path

import pytest

from tests.fakes.slack_api import method_facts

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
METHODS = SHARED / "slack-api-ref" / "methods"
SCHEMA = SHARED / "slack-manifest-schema" / "manifest.schema.1.0.0.json"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared beside this clone to compare with")


@needs_shared
def test_method_facts_match_slacks_method_reference() -> None:
    for name, fact in method_facts().items():
        doc = json.loads((METHODS / f"{name}.json").read_text(encoding="utf-8"))
        assert fact == {
            "required": [arg for arg in doc.get("args", {}).get("required", []) if arg != "token"],
            "json_input": doc.get("json_input_supported") is True,
            "bot_scopes": doc.get("scope", {}).get("bot", []),
        }, name
    assert set(method_facts()) == {path.stem for path in METHODS.glob("*.json")}


@needs_shared
def test_the_manifest_schema_copy_is_slacks() -> None:
    copy = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"
    assert json.loads(copy.read_text()) == json.loads(SCHEMA.read_text())

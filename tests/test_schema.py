"""JSON Schemas: generated from the model, shipped current, agreeing with the loader."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from pathways import load_text
from pathways._converter import converter
from pathways.errors import DefinitionError
from pathways.schema import DOCUMENTS, json_schema, schema_path, schema_text
from pathways.testing import valid_pathways

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_YAML = sorted(
    [*ROOT.glob("definitions/*.yaml"), *ROOT.glob("definitions/houses/*.yaml"), *ROOT.glob("definitions/journeys/*.yaml"), *ROOT.glob("examples/*.yaml")]
)
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<path>\S+)\n")


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server sees it: timestamps stay text."""


_EditorLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(kind), format_checker=jsonschema.FormatChecker())


class TestShipped:
    @pytest.mark.parametrize("kind", list(DOCUMENTS))
    def test_schemas_folder_and_package_copy_are_what_the_generator_writes(self, kind: str) -> None:
        text = schema_text(kind)
        assert (ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8") == text, "run: pathways schema --write schemas"
        assert schema_path(kind).read_text(encoding="utf-8") == text, "run: pathways schema --write src/pathways/schemas"

    @pytest.mark.parametrize("kind", list(DOCUMENTS))
    def test_every_schema_is_a_valid_draft_2020_12_schema(self, kind: str) -> None:
        jsonschema.Draft202012Validator.check_schema(json_schema(kind))

    def test_shipped_yaml_files_are_found(self) -> None:
        assert len(SHIPPED_YAML) >= 8

    @pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(ROOT)))
    def test_every_shipped_yaml_names_its_schema_on_the_first_line_and_is_valid(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        match = MODELINE.match(text)
        assert match, f"{path} must start with '# yaml-language-server: $schema=…'"
        schema_file = (path.parent / match["path"]).resolve()
        assert schema_file.parent == ROOT / "schemas" and schema_file.exists()
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
        doc = yaml.load(text, Loader=_EditorLoader)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
        assert errors == []


class TestSchemaCatchesWhatTheLoaderCatches:
    def test_a_misspelt_field_is_a_schema_error(self) -> None:
        doc = yaml.load((ROOT / "definitions/walk_in.yaml").read_text(encoding="utf-8"), Loader=_EditorLoader)
        doc["states"][0]["responsibel"] = ["nurse"]
        errors = list(_validator("pathway").iter_errors(doc))
        assert [e.message for e in errors] == ["Additional properties are not allowed ('responsibel' was unexpected)"]

    def test_a_malformed_duration_is_a_schema_error(self) -> None:
        doc = yaml.load((ROOT / "definitions/walk_in.yaml").read_text(encoding="utf-8"), Loader=_EditorLoader)
        deadline = next(s for s in doc["states"] if s.get("deadline"))["deadline"]
        deadline["after"] = "8 hours"
        assert not _validator("pathway").is_valid(doc)

    def test_a_label_read_as_false_by_yaml_1_1_is_a_schema_error(self) -> None:
        doc = yaml.safe_load("{da: Nej, en: No}")
        assert doc == {"da": "Nej", "en": False}
        schema = json_schema("pathway")
        label = {**schema["$defs"]["Label"], "$defs": schema["$defs"]}
        assert not jsonschema.Draft202012Validator(label).is_valid(doc)


def _document(pathway: Any) -> dict[str, Any]:
    """A pathway as a designer's document: plain YAML values."""
    data: dict[str, Any] = json.loads(json.dumps(converter.unstructure(pathway)))
    return data


def _loads(doc: dict[str, Any]) -> bool:
    try:
        load_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    except DefinitionError:
        return False
    return True


def _places(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document that holds a mapping or a list."""
    out = []
    if isinstance(doc, dict):
        out.append(path)
        for k, v in doc.items():
            out += _places(v, (*path, k))
    elif isinstance(doc, list):
        out.append(path)
        for i, v in enumerate(doc):
            out += _places(v, (*path, i))
    return out


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


_WRONG_VALUES = st.sampled_from([None, True, 3, 2.5, "text", "P", [], ["a", 1], {}, {"x": 1}])


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid pathway document and a copy with one shape change."""
    doc = _document(draw(valid_pathways(max_states=3, max_extra=2)))
    bad = copy.deepcopy(doc)
    place = draw(st.sampled_from(_places(bad)))
    target = _at(bad, place)
    how = draw(st.sampled_from(["unknown key", "drop key", "wrong value"]))
    if isinstance(target, dict) and target and how != "unknown key":
        key = draw(st.sampled_from(sorted(target)))
        if how == "drop key":
            del target[key]
        else:
            target[key] = draw(_WRONG_VALUES)
    elif isinstance(target, dict):
        target[draw(st.sampled_from(["colour", "responsibel", "x"]))] = "value"
    elif target:
        target[draw(st.integers(0, len(target) - 1))] = draw(_WRONG_VALUES)
    else:
        target.append(draw(_WRONG_VALUES))
    return doc, bad


class TestSchemaAgreesWithLoader:
    @given(valid_pathways(max_states=4, max_extra=3))
    def test_documents_the_loader_accepts_are_schema_valid(self, pathway: Any) -> None:
        doc = _document(pathway)
        assert _loads(doc)
        assert list(_validator("pathway").iter_errors(doc)) == []

    @given(_mutated())
    def test_shape_errors_the_schema_rejects_are_loader_errors_too(self, docs: tuple[dict[str, Any], dict[str, Any]]) -> None:
        good, bad = docs
        assume(not _validator("pathway").is_valid(bad))
        assert _loads(good)
        assert not _loads(bad)

"""Every workflow payload decodes inside the workflow sandbox: no annotation is left as a string
(pydantic would need the defining module in the sandbox's sys.modules to resolve it)."""
import dataclasses

import pydantic

import workflows.contracts as contracts


def _payloads():
    return [obj for obj in vars(contracts).values() if isinstance(obj, type) and dataclasses.is_dataclass(obj)]


def test_no_payload_field_is_annotated_with_a_string():
    quoted = [f"{cls.__name__}.{f.name}" for cls in _payloads() for f in dataclasses.fields(cls)
              if isinstance(f.type, str)]
    assert quoted == []


def test_every_payload_has_a_complete_schema():
    for cls in _payloads():
        pydantic.TypeAdapter(cls).core_schema   # raises if a referenced type is not defined

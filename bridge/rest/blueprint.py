"""The blueprint of one REST resource: its routes under ``/api/v1``, grouped in the OpenAPI
document under a tag of the resource's name."""

from __future__ import annotations

from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag


def resource(
    name: str, import_name: str, description: str, *, url_prefix: str = "/api/v1"
) -> APIBlueprint:
    """The blueprint `name` of module `import_name`; `description` is its tag's."""
    tag = Tag(name=name, description=description)
    return APIBlueprint(name, import_name, url_prefix=url_prefix, abp_tags=[tag])

"""Request and response models, one module a domain, shared by the JSON API (bodies and
`response_model`s) and the pages (FastAPI form models, `Annotated[Model, Form()]`)."""

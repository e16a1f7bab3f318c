"""safeship's HTTP faces: the feature-flag service (evaluation, management, streaming).

- :mod:`~safeship.server.flags_app`: the Starlette app factory; routes come from
  :mod:`~safeship.server.operations` (the route table), each behind token authorisation
  (:mod:`~safeship.server.auth`);
- :mod:`~safeship.server.service`: cached snapshots, evaluation, reads and writes over the flag
  store; :mod:`~safeship.server.change_feed` and :mod:`~safeship.server.events`: the data
  version and the change broadcaster behind ``GET /v1/stream`` (Server-Sent Events);
- :mod:`~safeship.server.openapi_doc`: the OpenAPI 3.1 document, generated from the route
  table and the models (committed at ``docs/openapi/flags-v1.yaml``);
- :mod:`~safeship.server.serve`: the uvicorn runner behind ``safeship flags serve``.
"""

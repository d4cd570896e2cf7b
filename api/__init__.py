"""foncier's web service: FastAPI over the library (layers, ZAN, land, matching, scenarios).

Build the application with :func:`api.app.create_app`; ``api.app:app`` is the
module-level instance uvicorn serves (settings read from ``FONCIER_*``
environment variables).
"""

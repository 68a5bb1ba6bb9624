"""The self-hosted console (issue 15): FastAPI on the case book.

``app.create_app`` builds the application; ``auth`` holds passwords, sessions, CSRF and
roles; one module of routes per audience (``dispatcher``, and the agent's and the
borrower's links). FastAPI is imported only in this wing.
"""

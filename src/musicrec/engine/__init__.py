"""The recommender engine: ratings in as arrays, models, scores and metrics out.

It imports neither Flask nor SQLAlchemy; the web app, the services and the CLI call it.
"""

"""The recommender engine: ratings in as arrays, models, scores and metrics out.

It imports neither Flask nor SQLAlchemy; the web app, the services and the CLI call it.

Modules (import what you need; this package imports nothing itself, so the importer's use of
``mapping`` stays cheap):

- ``mapping``: listens -> 1..10 ratings (``listens_to_ratings`` is the import's default);
- ``data``: ``IdMap`` and ``RatingMatrix`` (external ids <-> positions, sparse ratings);
- ``settings``: ``ImplicitSettings``/``ExplicitSettings``, typed and validated, with defaults;
- ``als``: the factory, ``settings_for`` and ``train``/``train_arrays`` for either kind;
- ``ranking``: the ``RecommenderModel`` interface, ``ScoredArtist``, ``top_n``;
- ``model``: shared factor-model code (fold-in, scoring, explanations);
- ``implicit_als``, ``explicit_als``, ``solve``: the two formulations and the batched solver;
- ``popularity``: ``popularity_scores`` and the fallback model; ``knn``, ``ease``,
  ``baselines``: evaluation baselines;
- ``artifacts``: ``ModelStore`` (atomic versions) and ``ratings_fingerprint``;
- ``metrics``, ``metrics_batch``, ``split``, ``evaluate``, ``compare``: offline evaluation
  over the report seeds; ``validation``: the split selection scores on; ``tuning``: the
  Optuna study of ``musicrec tune``.
"""

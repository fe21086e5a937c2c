"""The hub over HTTP: the GraphQL view (``view``), request body limits (``limits``), health and
readiness (``health``) and the Prometheus counters (``metrics``). The compiled path's HTTP half
is ``schema.compiled.endpoint``; app.py routes them all.

Nothing is re-exported here, so that the compiled endpoint can use the counters without
importing the view that calls it."""
